/**
 * The messages the platform sends, typed by the contract's `EmailTemplates`. Each template
 * describes its content once (greeting, paragraphs, call-to-action links); the layout below turns
 * that into the plain-text part and an HTML part in which every dynamic value is escaped.
 */
import type { AppLink, EmailTemplateName, EmailTemplates } from '../../core/index.ts';

export interface RenderedEmail {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  readonly links: readonly string[];
}

interface Action {
  readonly label: string;
  readonly url: string;
}

/** A paragraph, optionally followed by a call-to-action link. */
type Block = string | Action;

interface Draft {
  readonly subject: string;
  readonly greeting: string;
  readonly blocks: readonly Block[];
}

type LinkBuilder = (link: AppLink) => string;

const SENDER = 'Empulse';

const templates: { readonly [K in EmailTemplateName]: (data: EmailTemplates[K], link: LinkBuilder) => Draft } = {
  'verify-email': (data, link) => ({
    subject: 'Confirm your email address',
    greeting: greeting(data.displayName),
    blocks: [
      `Thanks for signing up with ${SENDER}. Please confirm your email address to activate your account.`,
      { label: 'Confirm email address', url: link(data.link) },
      `This link expires in ${plural(data.expiresInHours, 'hour')} and works once.`,
      `If you did not create an ${SENDER} account, you can ignore this email.`,
    ],
  }),
  'account-exists': (data, link) => ({
    subject: `You already have an ${SENDER} account`,
    greeting: greeting(data.displayName),
    blocks: [
      `Someone, hopefully you, tried to sign up for ${SENDER} with this email address. An account with this address already exists, so no new account was created.`,
      { label: 'Log in', url: link(data.loginLink) },
      'Forgotten your password? You can choose a new one:',
      { label: 'Reset your password', url: link(data.resetLink) },
      'If this was not you, you can ignore this email. Your account has not changed.',
    ],
  }),
  'password-reset': (data, link) => ({
    subject: `Reset your ${SENDER} password`,
    greeting: greeting(data.displayName),
    blocks: [
      `We received a request to reset the password of your ${SENDER} account.`,
      { label: 'Choose a new password', url: link(data.link) },
      `This link expires in ${plural(data.expiresInMinutes, 'minute')} and works once.`,
      'If you did not ask for this, you can ignore this email. Your password stays the same.',
    ],
  }),
  'password-changed': (data, link) => ({
    subject: `Your ${SENDER} password was changed`,
    greeting: greeting(data.displayName),
    blocks: [
      `The password of your ${SENDER} account was just changed. If you made this change, there is nothing else to do.`,
      'If you did not, reset your password now to secure your account:',
      { label: 'Reset your password', url: link(data.resetLink) },
    ],
  }),
  'account-locked': (data, link) => ({
    subject: `Sign-in to your ${SENDER} account is paused`,
    greeting: 'Hello,',
    blocks: [
      `After several failed sign-in attempts, sign-in to your ${SENDER} account is blocked until ${formatUtc(data.lockedUntil)}.`,
      'If that was you, you can try again after that time. If it was not, someone may be guessing your password; choosing a new one keeps your account safe:',
      { label: 'Reset your password', url: link(data.resetLink) },
    ],
  }),
};

export function renderEmail<T extends EmailTemplateName>(template: T, data: EmailTemplates[T], publicAppUrl: string): RenderedEmail {
  const render = templates[template] as ((data: EmailTemplates[T], link: LinkBuilder) => Draft) | undefined;
  if (!render) throw new TypeError(`unknown email template "${String(template)}"`);
  const draft = render(data, (link) => appUrl(publicAppUrl, link));
  const links = draft.blocks.filter(isAction).map((a) => a.url);
  return { subject: draft.subject, text: toText(draft), html: toHtml(draft), links };
}

/**
 * `link.path` resolved against PUBLIC_APP_URL, keeping any path the app is served under
 * (`https://example.com/app` + `/verify-email` → `https://example.com/app/verify-email`).
 * A link that would leave the app's origin (`//evil.example`, `javascript:`) is refused.
 */
export function appUrl(publicAppUrl: string, link: AppLink): string {
  const base = new URL(publicAppUrl.endsWith('/') ? publicAppUrl : `${publicAppUrl}/`);
  const url = new URL(link.path.replace(/^\/+/, ''), base);
  if (url.origin !== base.origin) throw new TypeError(`email link path "${link.path}" leaves the app's origin`);
  for (const [name, value] of Object.entries(link.query ?? {})) url.searchParams.set(name, value);
  return url.toString();
}

function toText(draft: Draft): string {
  const body = draft.blocks.map((b) => (isAction(b) ? `${b.label}:\n${b.url}` : b));
  return `${[draft.greeting, ...body, `— ${SENDER}`].join('\n\n')}\n`;
}

function toHtml(draft: Draft): string {
  const p = (inner: string, style = '') => `<p style="margin:0 0 16px${style}">${inner}</p>`;
  const body = draft.blocks.map((b) =>
    isAction(b)
      ? p(
          `<a href="${escapeHtml(b.url)}" style="display:inline-block;padding:12px 20px;background:#111111;color:#ffffff;text-decoration:none;border-radius:6px;font-weight:600">${escapeHtml(b.label)}</a>` +
            `<br><span style="font-size:13px;color:#555555;word-break:break-all">${escapeHtml(b.url)}</span>`,
        )
      : p(escapeHtml(b)),
  );
  return [
    '<!doctype html>',
    `<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(draft.subject)}</title></head>`,
    '<body style="margin:0;padding:24px;background:#f4f4f5;font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#111111;line-height:1.5">',
    '<div style="max-width:560px;margin:0 auto;background:#ffffff;padding:32px;border-radius:8px">',
    p(escapeHtml(draft.greeting)),
    ...body,
    p(`— ${SENDER}`, ';color:#555555'),
    '</div></body></html>',
    '',
  ].join('\n');
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function isAction(block: Block): block is Action {
  return typeof block !== 'string';
}

/** Names come from users: no control characters (line breaks would fake new paragraphs), bounded. */
function greeting(displayName: string): string {
  const name = displayName.replace(/[\p{Cc}\p{Cf}]+/gu, ' ').replace(/\s+/g, ' ').trim().slice(0, 100);
  return name ? `Hi ${name},` : 'Hello,';
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

const utcFormat = new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' });

function formatUtc(date: Date): string {
  return `${utcFormat.format(date)} UTC`;
}

/**
 * The one layout of every message: a template's draft (subject, greeting, paragraphs, actions)
 * becomes the plain-text part and an HTML part in which every dynamic value is escaped, with
 * links resolved against PUBLIC_APP_URL. Templates come from the plugins that send them.
 */
import type { AppLink, EmailDraft, EmailTemplate, RenderContext } from './contract.ts';

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

/** A paragraph, or a call-to-action with its resolved URL. */
type Block = string | Action;

interface Draft {
  readonly subject: string;
  readonly greeting: string;
  readonly blocks: readonly Block[];
}

const SENDER = 'Empulse';

const utcFormat = new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' });
const renderContext: RenderContext = {
  productName: SENDER,
  formatTime: (at) => `${utcFormat.format(at)} UTC`,
};

export function renderEmail<Data>(template: EmailTemplate<Data>, data: Data, publicAppUrl: string): RenderedEmail {
  const draft = resolve(template.render(data, renderContext), publicAppUrl);
  const links = draft.blocks.filter(isAction).map((a) => a.url);
  return { subject: draft.subject, text: toText(draft), html: toHtml(draft), links };
}

function resolve(draft: EmailDraft, publicAppUrl: string): Draft {
  return {
    subject: draft.subject,
    greeting: greeting(draft.recipientName),
    blocks: draft.blocks.map((b) => (typeof b === 'string' ? b : { label: b.label, url: appUrl(publicAppUrl, b.link) })),
  };
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
function greeting(displayName: string | undefined): string {
  const name = (displayName ?? '').replace(/[\p{Cc}\p{Cf}]+/gu, ' ').replace(/\s+/g, ' ').trim().slice(0, 100);
  return name ? `Hi ${name},` : 'Hello,';
}

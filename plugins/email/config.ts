/** The email plugin's options, where they come from in the environment, and the boot-time checks. */
import * as v from 'valibot';
import type { ConfigProblem, Env, RuntimeMode } from '../../core/index.ts';
import { parseOutboxKey } from './outbox-key.ts';

const TRANSPORTS = ['resend', 'smtp', 'outbox'] as const;
export type TransportName = (typeof TRANSPORTS)[number];

const int = (fallback: number, min: number) => v.optional(v.pipe(v.number(), v.integer(), v.minValue(min)), fallback);

export const emailConfigSchema = v.strictObject({
  /**
   * Left undefined here on purpose: the default depends on the other options after the
   * operator's and the environment's values are merged (see `resolveTransport`).
   */
  transport: v.optional(v.picklist(TRANSPORTS)),
  /** Sender, as a mailbox (`Name <address>`) or a bare address. */
  from: v.optional(v.pipe(v.string(), v.regex(/^[^\r\n]*@[^\r\n]*$/, 'must be an email address, optionally with a name')), 'Empulse <no-reply@localhost>'),
  resendApiKey: v.optional(v.string()),
  /** Resend's API root; only tests and proxies need it. */
  resendBaseUrl: v.optional(v.pipe(v.string(), v.url())),
  smtpUrl: v.optional(v.string()),
  /** Base of every link in a message (the label's web app). */
  publicAppUrl: v.optional(v.pipe(v.string(), v.url()), 'http://localhost:3000'),
  /** Where the development transport writes messages. */
  outboxDir: v.optional(v.pipe(v.string(), v.minLength(1)), '.empulse/outbox'),
  /** 32 bytes (base64url, base64 or hex) encrypting queued messages at rest. */
  outboxKey: v.optional(v.string()),
  /** Used only to derive the outbox key when `outboxKey` is not set. */
  jwtSecret: v.optional(v.string()),
  /** Attempts before a message is marked failed (the first send counts). */
  maxAttempts: int(8, 1),
  /** Delay before the first retry; it doubles per attempt (with jitter) up to `retryMaxDelayMs`. */
  retryBaseDelayMs: int(2_000, 1),
  retryMaxDelayMs: int(3_600_000, 1),
  /** How often the worker looks for due messages queued elsewhere (other instances, retries). */
  pollIntervalMs: int(5_000, 10),
  /** Rows one instance claims per round. */
  batchSize: int(10, 1),
  /** One delivery attempt may take this long before it counts as failed. */
  sendTimeoutMs: int(30_000, 100),
  /** A successful readiness check of the provider is reused this long (0: check on every probe). */
  readinessCacheMs: int(30_000, 0),
  /**
   * At shutdown, attempts in flight get this long to finish before they are cut short (and
   * rescheduled). Below the plugin's 5 s stop timeout, leaving time to record them.
   */
  stopGraceMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(4_000)), 3_000),
});

export type EmailConfig = v.InferOutput<typeof emailConfigSchema>;

export function emailConfigFromEnv(env: Env): Partial<v.InferInput<typeof emailConfigSchema>> {
  const transport = env.EMAIL_TRANSPORT?.trim().toLowerCase();
  return {
    // An unknown value is passed on as is, so the schema reports it instead of it being ignored.
    transport: (transport || undefined) as TransportName | undefined,
    from: env.EMAIL_FROM || undefined,
    resendApiKey: env.RESEND_API_KEY || undefined,
    resendBaseUrl: env.RESEND_BASE_URL || undefined,
    smtpUrl: env.SMTP_URL || undefined,
    publicAppUrl: env.PUBLIC_APP_URL || env.NEXT_PUBLIC_APP_URL || undefined,
    outboxDir: `${env.DATA_DIR || '.empulse'}/outbox`,
    outboxKey: env.EMAIL_OUTBOX_KEY || undefined,
    jwtSecret: env.JWT_SECRET || undefined,
  };
}

/** The transport in use: the explicit choice, else the first one whose settings are present. */
export function resolveTransport(config: Pick<EmailConfig, 'transport' | 'resendApiKey' | 'smtpUrl'>): TransportName {
  if (config.transport) return config.transport;
  if (config.resendApiKey) return 'resend';
  if (config.smtpUrl) return 'smtp';
  return 'outbox';
}

export function validateEmailConfig(config: EmailConfig, mode: RuntimeMode): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const transport = resolveTransport(config);
  if (transport === 'outbox' && mode === 'production') {
    problems.push({
      path: 'EMAIL_TRANSPORT',
      message: 'the development outbox only writes files and never delivers mail: set RESEND_API_KEY or SMTP_URL in production',
    });
  }
  if (transport === 'resend' && !config.resendApiKey) {
    problems.push({ path: 'RESEND_API_KEY', message: 'the resend transport needs an API key' });
  }
  if (transport === 'smtp') {
    if (!config.smtpUrl) problems.push({ path: 'SMTP_URL', message: 'the smtp transport needs a URL, e.g. smtp://user:pass@smtp.example.com:587' });
    else if (!isSmtpUrl(config.smtpUrl)) {
      // The value is not quoted: it usually carries a password.
      problems.push({ path: 'SMTP_URL', message: 'must be an smtp:// or smtps:// URL' });
    }
  }
  if (config.outboxKey !== undefined && parseOutboxKey(config.outboxKey) === undefined) {
    problems.push({ path: 'EMAIL_OUTBOX_KEY', message: 'must be 32 bytes written as base64url, base64 or hex (e.g. `openssl rand -base64 32`)' });
  }
  if (mode === 'production' && config.outboxKey === undefined && !config.jwtSecret) {
    problems.push({
      path: 'EMAIL_OUTBOX_KEY',
      message: 'queued messages are encrypted at rest: set EMAIL_OUTBOX_KEY (32 bytes, e.g. `openssl rand -base64 32`) or JWT_SECRET to derive it from',
    });
  }
  if (mode === 'production' && isLocalSender(config.from)) {
    problems.push({
      path: 'EMAIL_FROM',
      message: 'the default sender (no-reply@localhost) is not deliverable: set EMAIL_FROM to an address of your domain, e.g. "Label <no-reply@label.example>"',
    });
  }
  if (mode === 'production' && !isPublicHttpsUrl(config.publicAppUrl)) {
    problems.push({
      path: 'PUBLIC_APP_URL',
      message: 'links in emails carry single-use tokens: set PUBLIC_APP_URL to the https:// address of the web app',
    });
  }
  return problems;
}

/** A sender on a domain no mail server accepts mail from (localhost, .local, .localhost). */
function isLocalSender(from: string): boolean {
  const address = /<([^>]*)>\s*$/.exec(from)?.[1] ?? from;
  const domain = address.slice(address.lastIndexOf('@') + 1).trim().toLowerCase();
  return domain === 'localhost' || domain.endsWith('.localhost') || domain.endsWith('.local') || domain === '';
}

function isSmtpUrl(value: string): boolean {
  try {
    return ['smtp:', 'smtps:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

function isPublicHttpsUrl(value: string): boolean {
  const url = new URL(value);
  return url.protocol === 'https:' && !['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}

/** What the account and session logic share, built once in the plugin's `init`. */
import type { Database, Logger, OutageService, PluginContext } from '../../core/index.ts';
import type { EmailService } from '../email/contract.ts';
import type { LoginGate } from './contract.ts';
import type { PasswordPolicy } from './password-policy.ts';
import type { AccessTokens } from './access-tokens.ts';
import type { AuthConfig } from './config.ts';
import type { PasswordHasher } from './password-hasher.ts';

export interface AuthDeps {
  readonly config: AuthConfig;
  readonly db: Database;
  readonly email: EmailService;
  readonly hasher: PasswordHasher;
  readonly passwordPolicy: PasswordPolicy;
  readonly tokens: AccessTokens;
  /** Login gates other plugins added (the extension point's items, in order). */
  readonly gates: readonly LoginGate[];
  readonly logger: Logger;
  /** Where background work reports a dependency that is away (logged once per outage). */
  readonly outages: OutageService;
  readonly emit: PluginContext<unknown, unknown, unknown>['emit'];
  /** Counts a login's outcome (metrics; a no-op without the metrics plugin). */
  readonly countLogin: (outcome: LoginOutcome) => void;
}

export type LoginOutcome = 'succeeded' | 'invalid_credentials' | 'email_not_verified' | 'refused' | 'error';

/** Who is asking, for session records, gates and logs. */
export interface RequestMeta {
  readonly ip: string;
  readonly userAgent: string | undefined;
  readonly requestId: string;
}

/** Emails are trimmed and compared case-insensitively. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

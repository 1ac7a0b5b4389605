/**
 * What the plugin's routes and command see of its context, declared narrowly (the plugin's own
 * type would depend on its routes).
 */
import type { Database, Logger } from '../../core/index.ts';
import type { AuditService } from '../audit/contract.ts';
import type { AuthService } from '../auth/contract.ts';
import type { BlindIndex } from './blind-index.ts';
import type { FieldCipher } from './field-cipher.ts';
import type { FormStore } from './form-store.ts';

/** The plugin's state in one kernel (what `init` returns as `state`). */
export interface W9State {
  readonly cipher: FieldCipher;
  readonly index: BlindIndex;
  readonly store: FormStore;
  /** The plugin's logger, masking anything TIN-shaped. */
  readonly log: Logger;
  /** Logs the keys forms need that the ring lacks, when that changes (start, readiness). */
  readonly reportMissing: (missing: ReadonlyMap<string, number>) => void;
}

export interface W9RouteContext {
  readonly services: { readonly auth: AuthService; readonly audit: AuditService };
  /** Read by handlers only: routes are registered before `init` runs. */
  readonly state: W9State;
  readonly db: Database;
}

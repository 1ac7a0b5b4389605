/**
 * The ratelimit plugin's contract: the route metadata other plugins declare on their routes.
 * A route without it is in the `default` group; `rateLimit(false)` exempts it (health probes).
 */
import { defineRouteMeta } from '../../core/index.ts';

export interface RateLimitDeclaration {
  /** Routes sharing a group share one budget per client, e.g. `auth.login`. */
  readonly group: string;
  /** The default limit; operators override it by group name. */
  readonly limit: number;
  readonly windowSeconds: number;
}

/** `meta: [rateLimit({ group: 'auth.login', limit: 20, windowSeconds: 300 })]`, or `rateLimit(false)`. */
export const rateLimit = defineRouteMeta<RateLimitDeclaration | false>('ratelimit.policy');

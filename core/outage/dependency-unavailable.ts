/**
 * A dependency outage (the database, a cache, an object store…) is not a fault of the request
 * nor of the code: the request is answered 503 `service_unavailable` with `Retry-After`, and the
 * outage is logged once, not as a stack trace per request (core/outage/outage-log.ts).
 *
 * Plugins throw `DependencyUnavailableError` when a dependency of theirs cannot be reached. The
 * core recognises the database's own connection failures (raw `pg` errors and MikroORM's wrapped
 * ones) and plain network failures without being told.
 */

/** Seconds a client is asked to wait when the thrower did not say (`Retry-After`). */
export const DEFAULT_OUTAGE_RETRY_SECONDS = 5;

export class DependencyUnavailableError extends Error {
  override readonly name = 'DependencyUnavailableError';
  /** What is unreachable, for the log (never sent to clients): `database`, `redis`, `storage`… */
  readonly dependency: string;
  /** What `Retry-After` says (DEFAULT_OUTAGE_RETRY_SECONDS when absent). */
  readonly retryAfterSeconds: number | undefined;

  constructor(dependency: string, options: { readonly cause?: unknown; readonly retryAfterSeconds?: number } = {}) {
    super(`${dependency} is unavailable`, { cause: options.cause });
    this.dependency = dependency;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export interface Outage {
  readonly dependency: string;
  readonly retryAfterSeconds: number;
  /** The underlying failure, summarised for the log: no stack, no query text. */
  readonly cause: OutageCause;
}

export interface OutageCause {
  readonly name: string;
  readonly code: string | undefined;
  readonly message: string;
}

/** Node's codes for a peer that cannot be reached or went away. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/**
 * PostgreSQL's SQLSTATEs for "not now": class 08 (connection exception), the server shutting
 * down or starting (57P01–57P03) and too many connections (53300).
 */
const isUnavailableSqlState = (code: string) => code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300';

/** What `pg` and pg-pool say when a connection is gone, could not be made, or none was free in time. */
const PG_CONNECTION_MESSAGE =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error and is not queryable|Client was closed and is not queryable|Cannot use a pool after calling end on the pool)/;

interface ErrorLike {
  readonly name?: unknown;
  readonly status?: unknown;
  readonly statusCode?: unknown;
  readonly expose?: unknown;
  readonly type?: unknown;
  readonly syscall?: unknown;
  readonly address?: unknown;
  readonly port?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly severity?: unknown;
  readonly sqlState?: unknown;
  readonly cause?: unknown;
}

/**
 * The outage behind `err`, if it is one: a DependencyUnavailableError anywhere in its cause
 * chain, a database connection failure, or a network failure to some other peer (named by its
 * address, which is all the core knows of it).
 */
export function outageOf(err: unknown, peers: PeerNames = NO_PEER_NAMES): Outage | undefined {
  for (let e: unknown = err, depth = 0; typeof e === 'object' && e !== null && depth < 6; e = (e as ErrorLike).cause, depth++) {
    if (e instanceof DependencyUnavailableError) {
      const cause = e.cause ?? e;
      return { dependency: e.dependency, retryAfterSeconds: e.retryAfterSeconds ?? DEFAULT_OUTAGE_RETRY_SECONDS, cause: summarise(cause) };
    }
    const x = e as ErrorLike;
    // The client's doing, not a dependency's: a body parser's error (a client that hung up
    // mid-body is ECONNABORTED/ECONNRESET with a 4xx status) or any error marked as a 4xx.
    if (isClientError(x)) return undefined;
    const code = typeof x.code === 'string' ? x.code : typeof x.sqlState === 'string' ? x.sqlState : undefined;
    const message = typeof x.message === 'string' ? x.message : '';
    // pg's DatabaseError carries `severity`; MikroORM's DriverException copies `code` and `sqlState`.
    const fromPostgres = typeof x.severity === 'string' || typeof x.sqlState === 'string' || /Exception$/.test(String(x.name));
    if (fromPostgres && code !== undefined && /^[0-9A-Z]{5}$/.test(code) && isUnavailableSqlState(code)) return database(e);
    if (PG_CONNECTION_MESSAGE.test(message)) return database(e);
    // A connection we made (it names its syscall or peer), or the driver's wrapper of one.
    const outbound = typeof x.syscall === 'string' || typeof x.address === 'string' || typeof x.port === 'number' || x.name === 'AggregateError' || fromPostgres;
    if (code !== undefined && NETWORK_CODES.has(code) && outbound) return { dependency: peerOf(e, peers), retryAfterSeconds: DEFAULT_OUTAGE_RETRY_SECONDS, cause: summarise(e) };
  }
  return undefined;
}

function isClientError(x: ErrorLike): boolean {
  const status = typeof x.status === 'number' ? x.status : typeof x.statusCode === 'number' ? x.statusCode : undefined;
  return (status !== undefined && status >= 400 && status < 500) || x.expose === true || (typeof x.type === 'string' && x.type.startsWith('request.'));
}

function database(e: object): Outage {
  return { dependency: 'database', retryAfterSeconds: DEFAULT_OUTAGE_RETRY_SECONDS, cause: summarise(e) };
}

/** Names of known peers by port (the kernel knows the database's), for network errors. */
export type PeerNames = ReadonlyMap<number, string>;
const NO_PEER_NAMES: PeerNames = new Map();

/** A network error names its peer (`address`, `port`); MikroORM's wrapper names the database. */
function peerOf(e: object, peers: PeerNames): string {
  const x = e as { address?: unknown; port?: unknown; name?: unknown };
  if (/Exception$/.test(String(x.name))) return 'database';
  const known = typeof x.port === 'number' ? peers.get(x.port) : undefined;
  if (known) return known;
  return typeof x.address === 'string' ? `network peer ${x.address}${typeof x.port === 'number' ? `:${x.port}` : ''}` : 'network peer';
}

function summarise(e: unknown): OutageCause {
  const x = (typeof e === 'object' && e !== null ? e : {}) as ErrorLike;
  const code = typeof x.code === 'string' ? x.code : undefined;
  // The first line only: MikroORM appends the failed query (and pg its detail) on later lines.
  const message = (typeof x.message === 'string' ? x.message : String(e)).split('\n')[0]!.slice(0, 300);
  return { name: typeof x.name === 'string' ? x.name : 'Error', code, message };
}

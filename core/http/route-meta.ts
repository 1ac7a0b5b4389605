/**
 * Route metadata: typed per-route data that one plugin declares and another reads, without the
 * core knowing what it means. The ratelimit plugin, for instance, defines a key in its contract;
 * a plugin that owns a route declares `meta: [rateLimit({ group: 'auth.login', … })]`, and the
 * ratelimit plugin reads `rateLimit.read(route)`.
 */
declare const metaType: unique symbol;

/** One declared value, as a route lists it in `meta`. */
export interface RouteMetaEntry<T> {
  readonly key: string;
  readonly value: T;
  /** Compile-time only. */
  readonly [metaType]?: T;
}

/** A route-metadata key: call it with a value to declare it, `read` it off a route. */
export interface RouteMetaKey<T> {
  (value: T): RouteMetaEntry<T>;
  readonly id: string;
  /** The value a route declared, or undefined when it declared none. */
  read(route: { readonly options: { readonly meta?: readonly RouteMetaEntry<unknown>[] | undefined } }): T | undefined;
}

export function defineRouteMeta<T>(id: string): RouteMetaKey<T> {
  if (!/^[a-z][a-z0-9]*(?:[._-][a-z0-9]+)+$/.test(id)) {
    throw new TypeError(`route metadata id "${id}" must be dotted lower-case words, e.g. "ratelimit.policy"`);
  }
  const declare = (value: T): RouteMetaEntry<T> => Object.freeze({ key: id, value });
  const read: RouteMetaKey<T>['read'] = (route) => route.options.meta?.find((entry) => entry.key === id)?.value as T | undefined;
  return Object.assign(declare, { id, read });
}

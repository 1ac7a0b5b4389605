/**
 * Typed service references: the only way plugins reach each other's code.
 *
 * A ref is a plain value (an id) that carries the service's type at compile time only, so a
 * consumer gets a precisely typed object without importing the provider or merging global
 * declarations (the Backstage pattern).
 */
declare const serviceType: unique symbol;

export interface ServiceRef<T> {
  /** Unique id of the service, e.g. `email` or `core.health`. */
  readonly id: string;
  /** Compile-time only: the service's type. Never set at run time. */
  readonly [serviceType]?: T;
}

/** Declares a service that plugins can provide and consume. */
export function createServiceRef<T>(id: string): ServiceRef<T> {
  if (!/^[a-z][a-z0-9]*(?:[.-][a-z0-9]+)*$/.test(id)) {
    throw new TypeError(`service id "${id}" must be lower-case words separated by "." or "-"`);
  }
  return Object.freeze({ id });
}

/** The service type a ref stands for. */
export type ServiceOf<R> = R extends ServiceRef<infer T> ? T : never;

/** A named set of refs, as plugins declare them in `requires`, `optional` and `provides`. */
export type ServiceRefMap = { readonly [name: string]: ServiceRef<unknown> };

/** The implementations of a ref map, keyed by the same names. */
export type ServicesOf<M extends ServiceRefMap> = { readonly [K in keyof M]: ServiceOf<M[K]> };

/** Like ServicesOf, but each may be missing (optional dependencies). */
export type OptionalServicesOf<M extends ServiceRefMap> = {
  readonly [K in keyof M]: ServiceOf<M[K]> | undefined;
};

/**
 * Typed hooks (events). A hook ref names an event and carries its payload type; plugins emit
 * through the kernel and subscribe declaratively, so no plugin imports another to listen.
 */
declare const payloadType: unique symbol;

export interface HookRef<P> {
  readonly id: string;
  readonly [payloadType]?: P;
}

export function defineHook<P>(id: string): HookRef<P> {
  if (!/^[a-z][a-z0-9]*(?:[._-][a-z0-9]+)+$/.test(id)) {
    throw new TypeError(`hook id "${id}" must be dotted lower-case words, e.g. "auth.login.failed"`);
  }
  return Object.freeze({ id });
}

export type PayloadOf<H> = H extends HookRef<infer P> ? P : never;

/** A subscription as a plugin declares it, made with the `on` its `hooks` function receives. */
export interface HookSubscription<Ctx> {
  readonly hook: HookRef<unknown>;
  handler(payload: unknown, ctx: Ctx): void | Promise<void>;
}

/** Pairs a hook with a handler typed by the hook's payload and the plugin's context. */
export type HookBinder<Ctx> = <H extends HookRef<unknown>>(
  hook: H,
  handler: (payload: PayloadOf<H>, ctx: Ctx) => void | Promise<void>,
) => HookSubscription<Ctx>;

/** The runtime binder: type safety comes from HookBinder, at run time it only pairs. */
export const bindHook: HookBinder<never> = (hook, handler) => ({
  hook,
  handler: handler as (payload: unknown, ctx: never) => void | Promise<void>,
});

/** Options for emitting a hook. */
export interface EmitOptions {
  /**
   * The EntityManager of the transaction that caused the event. When it is inside a transaction,
   * delivery waits until that transaction commits and is dropped if it rolls back.
   */
  readonly em?: { isInTransaction(): boolean; getTransactionContext(): unknown } | undefined;
}

/**
 * The services of one kernel, by service id: the kernel's own (`core.*`) and each plugin's, set
 * when its `init` returned them. A plugin's context reads from here when a service is used, so
 * a provider's services appear to its consumers as soon as it is initialised.
 */
import type { ServiceOf, ServiceRef } from '../plugin/service-ref.ts';

export class ServiceRegistry {
  readonly #impls = new Map<string, unknown>();

  set<R extends ServiceRef<unknown>>(ref: R, impl: ServiceOf<R>): void {
    this.#impls.set(ref.id, impl);
  }

  /** Sets what a plugin's `init` returned for a ref (checked against its declaration by the caller). */
  provide(id: string, impl: unknown): void {
    this.#impls.set(id, impl);
  }

  get<R extends ServiceRef<unknown>>(ref: R): ServiceOf<R> | undefined {
    return this.#impls.get(ref.id) as ServiceOf<R> | undefined;
  }

  find(id: string): unknown {
    return this.#impls.get(id);
  }
}

/**
 * Services the kernel itself provides to every plugin that asks for them in `requires`.
 */
import type { HealthService } from './health/health-registry.ts';
import type { RouteDefinition, RouteGuard } from './http/plugin-router.ts';
import { createServiceRef } from './plugin/service-ref.ts';

export interface LifecycleService {
  /** True from the moment shutdown begins. */
  isShuttingDown(): boolean;
}

/** The routes every plugin registered (available once the kernel has mounted them). */
export interface RouteCatalog {
  list(): readonly RouteDefinition[];
  /** The OpenAPI 3.1 document of those routes. */
  openApi(): Record<string, unknown>;
}

/** Extension points of the HTTP pipeline. */
export interface HttpService {
  /** Adds a guard to every route (call from `init`; guards run in the order added). */
  addGuard(guard: RouteGuard): void;
}

export const coreServices = {
  /** Runs every registered readiness check (used by the health plugin). */
  health: createServiceRef<HealthService>('core.health'),
  lifecycle: createServiceRef<LifecycleService>('core.lifecycle'),
  routes: createServiceRef<RouteCatalog>('core.routes'),
  http: createServiceRef<HttpService>('core.http'),
} as const;

export const CORE_SERVICE_IDS: ReadonlySet<string> = new Set(Object.values(coreServices).map((ref) => ref.id));

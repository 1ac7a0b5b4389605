/**
 * Services the kernel itself provides to every plugin that asks for them in `requires`.
 */
import type { HealthService } from './health/health-registry.ts';
import type { RouteDefinition, RouteGuard } from './http/plugin-router.ts';
import type { DeclaredProblem } from './http/problem.ts';
import { createServiceRef } from './plugin/service-ref.ts';

export interface LifecycleService {
  /** True from the moment shutdown begins. */
  isShuttingDown(): boolean;
}

/** A plugin as the route catalogue describes it (for documentation: OpenAPI, listings). */
export interface PluginSummary {
  readonly id: string;
  readonly version: string;
  readonly description: string | undefined;
}

/** The routes every plugin registered (available once the kernel has mounted them). */
export interface RouteCatalog {
  list(): readonly RouteDefinition[];
  /** The enabled plugins, in initialisation order. */
  plugins(): readonly PluginSummary[];
  /** The kernel's version. */
  readonly kernelVersion: string;
  /**
   * Every problem code the service declares, by code: the core's and those of the enabled
   * plugins' catalogues (`definePlugin({ problems })`), each with its status and title.
   */
  problems(): ReadonlyMap<string, DeclaredProblem>;
}

/** One answered request, as response observers see it (metrics, tracing). */
export interface ResponseObservation {
  readonly method: string;
  /**
   * The pattern of the route that answered (`/v1/tracks/:id`), never the raw path; undefined
   * when no route matched (404/405), so a scanner's random paths cannot grow a label set.
   */
  readonly route: string | undefined;
  /** The id of the plugin that registered that route. */
  readonly plugin: string | undefined;
  readonly status: number;
  /** From the request's arrival to the end of its handler (the body may still be streaming). */
  readonly durationSeconds: number;
}

/** Called once per answered request; it must be quick and must not throw (a throw is logged and ignored). */
export type ResponseObserver = (observation: ResponseObservation) => void;

/** Extension points of the HTTP pipeline; open while plugins initialise, closed once the kernel runs. */
export interface HttpService {
  /** Adds a guard to every route (guards run in the order added, before the body is read). */
  addGuard(guard: RouteGuard): void;
  /** Response headers browsers may read cross-origin (CORS `Access-Control-Expose-Headers`). */
  exposeHeaders(...names: string[]): void;
  /** Calls `observer` after every request, whether or not a route matched. */
  observeResponses(observer: ResponseObserver): void;
}

/**
 * Dependency outages, for work outside requests (workers, timers): requests are handled by the
 * pipeline itself, which answers 503 service_unavailable.
 */
export interface OutageService {
  /**
   * When `err` means a dependency is unreachable (DependencyUnavailableError, a database
   * connection failure, a refused or reset network connection), counts it against that
   * dependency's outage (logged once at `error`, then summarised) and returns true. Otherwise
   * returns false: the caller logs it as the fault it is.
   */
  report(err: unknown, context?: { readonly job?: string; readonly requestId?: string }): boolean;
  /** True while an outage of `dependency` (`database`…) is open. */
  isOpen(dependency: string): boolean;
}

export const coreServices = {
  /** Runs every registered readiness check (used by the health plugin). */
  health: createServiceRef<HealthService>('core.health'),
  lifecycle: createServiceRef<LifecycleService>('core.lifecycle'),
  routes: createServiceRef<RouteCatalog>('core.routes'),
  http: createServiceRef<HttpService>('core.http'),
  outages: createServiceRef<OutageService>('core.outages'),
} as const;

export const CORE_SERVICE_IDS: ReadonlySet<string> = new Set(Object.values(coreServices).map((ref) => ref.id));

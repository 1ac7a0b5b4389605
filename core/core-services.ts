/**
 * Services the kernel itself provides to every plugin that asks for them in `requires`.
 */
import type { HealthService } from './health/health-registry.ts';
import { createServiceRef } from './plugin/service-ref.ts';

export interface LifecycleService {
  /** True from the moment shutdown begins. */
  isShuttingDown(): boolean;
}

export const coreServices = {
  /** Runs every registered readiness check (used by the health plugin). */
  health: createServiceRef<HealthService>('core.health'),
  lifecycle: createServiceRef<LifecycleService>('core.lifecycle'),
} as const;

export const CORE_SERVICE_IDS: ReadonlySet<string> = new Set(Object.values(coreServices).map((ref) => ref.id));

/**
 * The metrics plugin's contract: the `metrics` service other plugins use to publish their own
 * Prometheus series (declare it in `optional`, so a deployment without metrics costs nothing).
 * Series are made once, in `init`; updating them is a few hundred nanoseconds.
 */
import { createServiceRef } from '../../core/index.ts';

/** Label values by label name. Keep values few and known (an outcome, a group), never ids or paths. */
export type Labels<L extends string> = { readonly [K in L]: string | number };

export interface MetricSpec<L extends string> {
  /**
   * The series name: `[a-zA-Z_:][a-zA-Z0-9_:]*`, prefixed with `empulse_<plugin>_`, the unit in
   * the name (`_seconds`, `_bytes`) and counters ending in `_total` (Prometheus' conventions).
   */
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly L[];
}

export interface HistogramSpec<L extends string> extends MetricSpec<L> {
  /** Upper bounds of the buckets, ascending, in the series' unit. */
  readonly buckets: readonly number[];
}

export interface GaugeSpec<L extends string> extends MetricSpec<L> {
  /**
   * Called at each scrape, before the gauge is read: for values cheaper to look up than to track
   * (a queue's depth, a pool's size). A failure is logged and the gauge keeps its last values.
   */
  readonly collect?: (gauge: Gauge<L>) => void | Promise<void>;
}

export interface Counter<L extends string> {
  /** Adds `value` (default 1, never negative). */
  inc(labels: Labels<L>, value?: number): void;
}

export interface Histogram<L extends string> {
  observe(labels: Labels<L>, value: number): void;
}

export interface Gauge<L extends string> {
  set(labels: Labels<L>, value: number): void;
}

export interface MetricsService {
  counter<L extends string = never>(spec: MetricSpec<L>): Counter<L>;
  histogram<L extends string = never>(spec: HistogramSpec<L>): Histogram<L>;
  gauge<L extends string = never>(spec: GaugeSpec<L>): Gauge<L>;
}

export const metricsServiceRef = createServiceRef<MetricsService>('metrics');

/** Buckets for durations of work a client waits for (seconds). */
export const LATENCY_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

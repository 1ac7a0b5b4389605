/**
 * The `metrics` service over one prom-client Registry per kernel (never prom-client's global
 * one: two kernels in one process, as in tests, must not share or collide). Counters and
 * histograms are our own fast series (series.ts), gauges prom-client's (read at scrape time).
 */
import client from 'prom-client';
import type { Logger } from '../../core/index.ts';
import { Series } from './series.ts';
import type { Counter, Gauge, GaugeSpec, Histogram, HistogramSpec, Labels, MetricSpec, MetricsService } from './contract.ts';

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

export class MetricsRegistry implements MetricsService {
  readonly registry = new client.Registry();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  counter<L extends string = never>(spec: MetricSpec<L>): Counter<L> {
    const { name, help, labelNames } = this.#common(spec);
    const series = new Series<L>({ name, help, labelNames: labelNames as L[] });
    this.registry.registerMetric(series as unknown as client.Metric);
    return { inc: (labels: Labels<L>, value = 1) => series.record(labels, value) };
  }

  histogram<L extends string = never>(spec: HistogramSpec<L>): Histogram<L> {
    const { name, help, labelNames } = this.#common(spec);
    const series = new Series<L>({ name, help, labelNames: labelNames as L[], buckets: spec.buckets });
    this.registry.registerMetric(series as unknown as client.Metric);
    return { observe: (labels: Labels<L>, value: number) => series.record(labels, value) };
  }

  gauge<L extends string = never>(spec: GaugeSpec<L>): Gauge<L> {
    const logger = this.#logger;
    let facade: Gauge<L>;
    const collect = spec.collect;
    const metric = new client.Gauge({
      ...this.#common(spec),
      ...(collect && {
        // A failing lookup (the database away) must not fail the whole scrape: the other
        // series are what an operator needs most at that moment.
        async collect() {
          try {
            await collect(facade);
          } catch (err) {
            logger.warn({ err, metric: spec.name }, 'a metric could not be collected');
          }
        },
      }),
    });
    facade = { set: (labels: Labels<L>, value: number) => metric.set(labels, value) };
    return facade;
  }

  /** The text exposition of every series, and its content type. */
  async scrape(): Promise<{ readonly contentType: string; readonly body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  #common<L extends string>(spec: MetricSpec<L>) {
    if (!NAME.test(spec.name)) throw new Error(`metric name "${spec.name}" is not a Prometheus name ([a-zA-Z_:][a-zA-Z0-9_:]*)`);
    if (this.registry.getSingleMetric(spec.name)) throw new Error(`metric "${spec.name}" is registered twice`);
    return { name: spec.name, help: spec.help, labelNames: [...(spec.labelNames ?? [])], registers: [this.registry] };
  }
}

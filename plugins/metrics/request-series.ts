/**
 * `http_requests_total` and `http_request_duration_seconds`, kept by hand instead of through
 * prom-client's Counter and Histogram: these two are updated on every request, and prom-client's
 * generic path (a closure, label validation and a sorted-key hash per call, twice) cost the
 * pipeline ~14% of its throughput. Here one update is a string key, a Map lookup and a bucket
 * walk; the series are rendered in prom-client's shape at scrape time, by the same registry.
 */
interface Entry {
  readonly labels: { readonly method: string; readonly route: string; readonly status: string };
  count: number;
  sum: number;
  /** Observations per bucket (not cumulative; made cumulative when rendered). */
  readonly perBucket: Float64Array;
}

/** What prom-client's Registry reads from a metric it renders. */
interface RenderedMetric {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'histogram';
  readonly values: readonly { readonly labels: Record<string, string | number>; readonly value: number; readonly metricName?: string }[];
  readonly aggregator: 'sum';
}

export interface RegistryLike {
  registerMetric(metric: unknown): void;
}

export class RequestSeries {
  readonly #bounds: readonly number[];
  readonly #entries = new Map<string, Entry>();

  constructor(bounds: readonly number[]) {
    this.#bounds = bounds;
  }

  observe(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${status} ${route}`;
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = { labels: { method, route, status: String(status) }, count: 0, sum: 0, perBucket: new Float64Array(this.#bounds.length) };
      this.#entries.set(key, entry);
    }
    entry.count++;
    entry.sum += seconds;
    const bounds = this.#bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (seconds <= bounds[i]!) {
        entry.perBucket[i]!++;
        break;
      }
    }
  }

  /** Registers both series with the registry, rendered from the entries at each scrape. */
  register(registry: RegistryLike, names: { readonly counter: string; readonly histogram: string }): void {
    const counter = {
      name: names.counter,
      help: 'Requests answered, by method, route pattern and status',
      type: 'counter',
      aggregator: 'sum',
      get: (): RenderedMetric => ({ ...counter, type: 'counter', aggregator: 'sum', values: [...this.#entries.values()].map((e) => ({ labels: e.labels, value: e.count })) }),
      reset: () => undefined,
    };
    const histogram = {
      name: names.histogram,
      help: "Time from a request's arrival to its answer, by method, route pattern and status",
      type: 'histogram',
      aggregator: 'sum',
      get: (): RenderedMetric => ({ ...histogram, type: 'histogram', aggregator: 'sum', values: this.#histogramValues(names.histogram) }),
      reset: () => undefined,
    };
    registry.registerMetric(counter);
    registry.registerMetric(histogram);
  }

  #histogramValues(name: string): RenderedMetric['values'] {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const e of this.#entries.values()) {
      let cumulative = 0;
      this.#bounds.forEach((bound, i) => {
        cumulative += e.perBucket[i]!;
        values.push({ labels: { le: bound, ...e.labels }, value: cumulative, metricName: `${name}_bucket` });
      });
      values.push({ labels: { le: '+Inf', ...e.labels }, value: e.count, metricName: `${name}_bucket` });
      values.push({ labels: e.labels, value: e.sum, metricName: `${name}_sum` });
      values.push({ labels: e.labels, value: e.count, metricName: `${name}_count` });
    }
    return values;
  }
}

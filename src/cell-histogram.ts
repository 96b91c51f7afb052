import type { Metric, Registry } from 'prom-client';

/** What a Registry reads from a metric (prom-client's own metrics answer the same shape). */
interface Exposed {
  name: string;
  help: string;
  type: 'histogram';
  aggregator: 'sum';
  values: { metricName: string; labels: Record<string, string | number>; value: number }[];
}

/** One label set's counts: `observe` only adds, so recording a request costs a few comparisons. */
export class HistogramCell {
  /** Per bucket (not cumulative), and the last one past every bound (+Inf). */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Readonly<Record<string, string>>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

/**
 * A Prometheus histogram whose label sets are resolved once: `cell(...values)` answers the same cell for the same
 * label values, and a request only counts into it. prom-client's Histogram.observe checks and hashes its labels
 * on every call, which was 3 µs of the ~90 GET batch status cost under `npm run bench:load`: the HTTP histogram
 * is observed once per request, over a small set of label values (route pattern × method × status).
 * It registers on a prom-client Registry and exposes the same text as prom-client's own histograms.
 */
export class CellHistogram<L extends string> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #cells = new Map<string, HistogramCell>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly L[],
    readonly buckets: readonly number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  /** The cell of these label values, in `labelNames` order; made on first use. */
  cell(...values: string[]): HistogramCell {
    const key = values.join('\u0000');
    let c = this.#cells.get(key);
    if (!c) {
      if (values.length !== this.labelNames.length)
        throw new Error(`${this.name}: ${this.labelNames.length} label values expected`);
      c = new HistogramCell(Object.fromEntries(this.labelNames.map((n, i) => [n, values[i]!])), this.buckets);
      this.#cells.set(key, c);
    }
    return c;
  }

  async get(): Promise<Exposed> {
    const values: Exposed['values'] = [];
    for (const c of this.#cells.values()) {
      let acc = 0;
      this.buckets.forEach((le, i) => {
        acc += c.counts[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { ...c.labels, le }, value: acc });
      });
      values.push(
        { metricName: `${this.name}_bucket`, labels: { ...c.labels, le: '+Inf' }, value: c.count },
        { metricName: `${this.name}_sum`, labels: c.labels, value: c.sum },
        { metricName: `${this.name}_count`, labels: c.labels, value: c.count },
      );
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.#cells.clear();
  }
}

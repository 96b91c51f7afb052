import type { Logger } from 'pino';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Db } from './db/open-db.ts';
import { BATCH_STATES } from './core/states.ts';

/**
 * The service's Prometheus metrics (docs/operations.md: Metrics). One Registry per service, handed to the engine and the
 * app through Ctx, never prom-client's global one: two services in one process (the tests) each count their own.
 */
export interface Metrics {
  readonly registry: Registry;
  /** Item outcomes recorded by chunk runs in this process, by outcome. */
  readonly itemsProcessed: Counter<'outcome'>;
  /** One committed slice: the lease fence, the item changes and the outcomes, in one transaction. */
  readonly sliceSeconds: Histogram;
  /** Chunks whose lease ran out (their worker died or hung) and were handed back by this process's reaper. */
  readonly leaseReclaims: Counter;
  /** By method, route pattern (never the raw URL) and status code. */
  readonly httpSeconds: Histogram<'method' | 'route' | 'status_code'>;
}

/** Slices take ~15 ms unthrottled (docs/api.md: Batch lifecycle); the buckets resolve that and still show a stalled 10 s one. */
const SLICE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Reads answer in about a millisecond; a batch submit of 100,000 ids or an inline Hexabase run takes seconds. */
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function makeMetrics(db: Db, log: Logger): Metrics {
  const registry = new Registry();
  new Gauge({
    name: 'batchgate_batches',
    help: 'Batches by state, read from the database at scrape time (the same in every process).',
    labelNames: ['state'],
    registers: [registry],
    // One grouped count over the batch table (one row per batch) per scrape. Every state is reported, 0 when
    // empty, so a series never vanishes; when the database cannot be read the gauge is left empty rather than stale.
    async collect() {
      this.reset();
      try {
        const rows = await db
          .selectFrom('batch')
          .select((eb) => ['state', eb.fn.countAll<number>().as('n')])
          .groupBy('state')
          .execute();
        for (const s of BATCH_STATES) this.set({ state: s }, 0);
        for (const r of rows) this.set({ state: r.state }, Number(r.n));
      } catch (e) {
        log.warn({ err: e }, 'metrics: could not count batches');
      }
    },
  });
  const itemsProcessed = new Counter({
    name: 'batchgate_items_processed_total',
    help: 'Item outcomes recorded by chunk runs in this process.',
    labelNames: ['outcome'],
    registers: [registry],
  });
  for (const outcome of ['succeeded', 'failed', 'skipped']) itemsProcessed.inc({ outcome }, 0);
  return {
    registry,
    itemsProcessed,
    sliceSeconds: new Histogram({
      name: 'batchgate_chunk_slice_duration_seconds',
      help: 'Duration of one committed chunk slice (one transaction of item changes and outcomes).',
      buckets: SLICE_BUCKETS,
      registers: [registry],
    }),
    leaseReclaims: new Counter({
      name: 'batchgate_lease_reclaims_total',
      help: 'Chunks whose lease expired and were handed back to the workers by this process.',
      registers: [registry],
    }),
    httpSeconds: new Histogram({
      name: 'batchgate_http_request_duration_seconds',
      help: 'HTTP request duration by method, route pattern (never the raw URL) and status code.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: HTTP_BUCKETS,
      registers: [registry],
    }),
  };
}

/**
 * prom-client's process metrics (CPU, memory, event loop lag, GC, handles) on the service's registry. Only a real
 * service turns them on: they start an event-loop monitor and a GC observer that live as long as the process.
 */
export function enableProcessMetrics(metrics: Metrics): void {
  collectDefaultMetrics({ register: metrics.registry });
}

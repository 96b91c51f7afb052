/**
 * Waiting in tests. Every wait polls until what it waits for holds, under a bound far above what it takes: the
 * bound only ends a test whose promise is broken, it never measures anything.
 */
import assert from 'node:assert/strict';
import type { Ctx } from '../../src/core/context.ts';
import { TERMINAL } from '../../src/core/states.ts';
import { findBatch, type Batch } from '../../src/engine/batches.ts';
import type { Client } from './service.ts';

export interface Poll {
  /** The bound on the whole wait, after which it fails with the last value read. */
  timeoutMs?: number;
  /** The pause between two reads. */
  pollMs?: number;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Reads until `done` holds on what `read` answers, and answers that. Fails after the bound with `what` and the
 * last value (`show` prints it; JSON by default).
 */
export async function until<T>(
  what: string,
  read: () => T | Promise<T>,
  done: (v: T) => boolean = Boolean,
  { timeoutMs = 60_000, pollMs = 25, show = (v: T) => JSON.stringify(v) }: Poll & { show?: (v: T) => string } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}: ${show(v)}`);
    await pause(pollMs);
  }
}

/** Where a batch is read from: through the API as a workspace member, or its row straight from the database. */
export type BatchSource = { api: Client; ws: string } | { ctx: Ctx };

export interface BatchWait<B> extends Poll {
  /** Done when the batch is in one of these states (terminal by default)... */
  states?: readonly string[];
  /** ...or, instead, when this holds. */
  until?: (b: B) => boolean;
}

/** Counters as both the API and the row carry them. */
type Counted = Pick<Batch, 'state' | 'total' | 'succeeded' | 'failed' | 'skipped' | 'pending'>;

function countersAddUp(b: Counted): void {
  assert.equal(b.total, b.succeeded + b.failed + b.skipped + b.pending, `counters add up: ${JSON.stringify(b)}`);
}

/**
 * Polls a batch until it is in one of `states` (terminal by default) or `until` holds, checking at every read
 * that its counters add up. Through the API it answers the API's batch (bound 20 s, a read every 25 ms); from
 * the database, its row (bound 60 s, a read every 5 ms, fine enough to stop a worker at a chosen point).
 */
export function waitForBatch(from: { api: Client; ws: string }, id: string, opts?: BatchWait<any>): Promise<any>;
export function waitForBatch(from: { ctx: Ctx }, id: string, opts?: BatchWait<Batch>): Promise<Batch>;
export async function waitForBatch(from: BatchSource, id: string, opts: BatchWait<any> = {}): Promise<any> {
  const [b] = await waitForBatches(from as { ctx: Ctx }, [id], ([one]) => done(one!), {
    ...('api' in from ? { timeoutMs: 20_000, pollMs: 25 } : {}),
    ...opts,
  });
  return b;

  function done(b: Counted): boolean {
    return opts.until ? opts.until(b) : (opts.states ?? (TERMINAL as readonly string[])).includes(b.state);
  }
}

/** waitForBatch for several batches read together, until `done` holds on all of them. */
export function waitForBatches(
  from: { api: Client; ws: string },
  ids: string[],
  done: (bs: any[]) => boolean,
  opts?: Poll,
): Promise<any[]>;
export function waitForBatches(
  from: { ctx: Ctx },
  ids: string[],
  done: (bs: Batch[]) => boolean,
  opts?: Poll,
): Promise<Batch[]>;
export async function waitForBatches(
  from: BatchSource,
  ids: string[],
  done: (bs: any[]) => boolean,
  { timeoutMs = 60_000, pollMs = 5 }: Poll = {},
): Promise<any[]> {
  const read = async (id: string): Promise<Counted> => {
    if ('api' in from) {
      const r = await from.api.get(`/api/v1/workspaces/${from.ws}/batches/${id}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body;
    }
    return (await findBatch(from.ctx, id)) ?? assert.fail(`batch ${id} not found`);
  };
  return until(
    `batches ${ids.join(', ')}`,
    async () => {
      const bs = await Promise.all(ids.map(read));
      bs.forEach(countersAddUp);
      return bs;
    },
    done,
    { timeoutMs, pollMs },
  );
}

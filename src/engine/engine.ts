import { withTx, type Ctx } from '../core/context.ts';
import { forRequest } from '../log.ts';
import type { Actor } from '../core/operations/types.ts';
import type { OpenDb } from '../db/open-db.ts';
import { TERMINAL } from '../core/states.ts';
import { findBatch, type Batch } from './batches.ts';
import { cancelBatch, pauseBatch, reprioritizeBatch, resumeBatch, retryBatch, rethrottleBatch } from './controls.ts';
import { makeNotifier, type Notifier } from './notifier.ts';
import { runChunk } from './run-chunk.ts';
import { claimChunk } from './sql/claim-chunk.ts';
import { releaseLeftovers } from './sql/release-leftovers.ts';
import { DEFAULT_TUNING, submitBatch, type EngineTuning, type SubmitInput } from './submit.ts';
import { startWorker, type Worker, type WorkerOptions } from './worker.ts';

// The façade: a door (src/api/<door>/) imports the engine through this file only (.dependency-cruiser.cjs). Besides
// the Engine below, it reads batches and their items and submits model operations through these.
export type { Batch, SubmitInput };
export { findBatch, getBatch, groupBatches, listBatches, toBatch } from './batches.ts';
export { listBatchItems, outcomeOf } from './batch-items.ts';
export type { Notifier } from './notifier.ts';
export { submitReverse, submitTransform } from './model-ops/submit-model-op.ts';

/** The engine as the API sees it: submit and control batches, run small ones inline, optionally a worker. */
export interface Engine {
  readonly ctx: Ctx;
  readonly notifier: Notifier;
  submit(actor: Actor, input: SubmitInput): Promise<{ batch: Batch; created: boolean }>;
  /** Submits and runs the batch to its end inside the caller's request, through the same chunk code. */
  runInline(actor: Actor, input: SubmitInput): Promise<Batch>;
  /**
   * Submits one batch per entry in one transaction (all or none), for workers to run; `requestId` tags the log
   * lines. Batches submitted together name the same `group_id` in their inputs.
   */
  submitGroup(submits: readonly { actor: Actor; input: SubmitInput }[], requestId?: string): Promise<Batch[]>;
  /** Controls; `requestId` is the HTTP request asking, for the log line each writes. */
  cancel(batch: Batch, requestId?: string): Promise<Batch>;
  pause(batch: Batch, requestId?: string): Promise<Batch>;
  resume(batch: Batch, requestId?: string): Promise<Batch>;
  retry(batch: Batch, requestId?: string): Promise<Batch>;
  rethrottle(batch: Batch, maxRate: number | null, requestId?: string): Promise<Batch>;
  reprioritize(batch: Batch, priority: number, requestId?: string): Promise<Batch>;
  /** A new `revert` batch undoing what `batch` (finished or cancelled) changed, run by workers like any other. */
  revert(
    actor: Actor,
    batch: Batch,
    opts: { dry_run?: boolean; comment?: string; priority?: number; source?: string },
  ): Promise<Batch>;
  startWorker(opts?: WorkerOptions): Worker;
  close(): Promise<void>;
}

export interface EngineOptions {
  tuning?: EngineTuning;
  /** Lease for inline runs; short, since the request waits on it. */
  inlineLeaseMs?: number;
}

export async function makeEngine(ctx: Ctx, opened: OpenDb, opts: EngineOptions = {}): Promise<Engine> {
  const notifier = await makeNotifier(opened);
  const tuning = opts.tuning ?? DEFAULT_TUNING;
  const workers: Worker[] = [];
  const wake = <T>(p: Promise<T>): Promise<T> => p.then((v) => (notifier.workAvailable(), v));
  /** A control changed the batch: its readers here (SSE streams, the status cache) look again at once. */
  const changed = (p: Promise<Batch>): Promise<Batch> => p.then((b) => (notifier.progress(b.id), b));
  const tagged = (requestId: string | undefined): Ctx => forRequest(ctx, requestId);

  async function runInline(actor: Actor, input: SubmitInput): Promise<Batch> {
    const ctx = tagged(actor.principal.requestId);
    const { batch } = await submitBatch(ctx, actor, input, tuning);
    const owner = `inline:${batch.id}`;
    const leaseMs = opts.inlineLeaseMs ?? 30_000;
    const runner = { ctx, owner, leaseMs, stopping: () => false, onProgress: (id: string) => notifier.progress(id) };
    for (;;) {
      const current = (await findBatch(ctx, batch.id))!;
      if (TERMINAL.includes(current.state) || current.state === 'paused' || current.state === 'scheduled')
        return current;
      const chunk = await claimChunk(ctx, owner, leaseMs, { batchId: batch.id });
      // Another worker holds the rest of the chunks: wait for it to finish them.
      if (!chunk) await new Promise((r) => setTimeout(r, 20));
      // Lost during a database outage, the chunk may still be leased to this request: give it back.
      else if ((await runChunk(runner, chunk)) === 'lost') await releaseLeftovers(ctx, owner);
    }
  }

  return {
    ctx,
    notifier,
    submit: (actor, input) => wake(submitBatch(tagged(actor.principal.requestId), actor, input, tuning)),
    runInline,
    submitGroup: (submits, rid) =>
      wake(
        withTx(tagged(rid), async (tx) => {
          const out: Batch[] = [];
          for (const { actor, input } of submits) out.push((await submitBatch(tx, actor, input, tuning)).batch);
          return out;
        }),
      ),
    cancel: (b, rid) => changed(wake(cancelBatch(tagged(rid), b))),
    pause: (b, rid) => changed(wake(pauseBatch(tagged(rid), b))),
    resume: (b, rid) => changed(wake(resumeBatch(tagged(rid), b))),
    retry: (b, rid) => changed(wake(retryBatch(tagged(rid), b))),
    rethrottle: (b, rate, rid) => changed(wake(rethrottleBatch(tagged(rid), b, rate))),
    reprioritize: (b, priority, rid) => changed(reprioritizeBatch(tagged(rid), b, priority)),
    revert: async (actor, b, o) => {
      const input: SubmitInput = {
        operation: 'revert',
        target: { revert_of: b.id },
        dry_run: o.dry_run === true,
        source: o.source ?? 'native',
      };
      if (o.comment !== undefined) input.comment = o.comment;
      if (o.priority !== undefined) input.priority = o.priority;
      return (await wake(submitBatch(tagged(actor.principal.requestId), actor, input, tuning))).batch;
    },
    startWorker(wopts) {
      const w = startWorker(ctx, notifier, wopts);
      workers.push(w);
      return w;
    },
    async close() {
      await Promise.all(workers.map((w) => w.stop()));
      await notifier.close();
    },
  };
}

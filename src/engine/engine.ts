import { withTx, type Ctx } from '../core/context.ts';
import { forRequest, type RequestContext } from '../log.ts';
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
export { TooManyTargets } from './submit.ts';
export { findBatch, getBatch, groupBatches, listBatches, toBatch } from './batches.ts';
export { listBatchItems, outcomeOf } from './batch-items.ts';
export type { Notifier } from './notifier.ts';
export { submitReverse, submitTransform } from './model-ops/submit-model-op.ts';

/**
 * The engine as the API sees it: submit and control batches, run small ones inline, optionally a worker. Each
 * call names the HTTP request it serves (`request`, NO_REQUEST outside one), for the log lines it writes.
 */
export interface Engine {
  readonly ctx: Ctx;
  readonly notifier: Notifier;
  submit(request: RequestContext, actor: Actor, input: SubmitInput): Promise<{ batch: Batch; created: boolean }>;
  /** Submits and runs the batch to its end inside the caller's request, through the same chunk code. */
  runInline(request: RequestContext, actor: Actor, input: SubmitInput): Promise<Batch>;
  /**
   * Submits one batch per entry in one transaction (all or none), for workers to run. Batches submitted together
   * name the same `group_id` in their inputs.
   */
  submitGroup(request: RequestContext, submits: readonly { actor: Actor; input: SubmitInput }[]): Promise<Batch[]>;
  cancel(request: RequestContext, batch: Batch): Promise<Batch>;
  pause(request: RequestContext, batch: Batch): Promise<Batch>;
  resume(request: RequestContext, batch: Batch): Promise<Batch>;
  retry(request: RequestContext, batch: Batch): Promise<Batch>;
  rethrottle(request: RequestContext, batch: Batch, maxRate: number | null): Promise<Batch>;
  reprioritize(request: RequestContext, batch: Batch, priority: number): Promise<Batch>;
  /** A new `revert` batch undoing what `batch` (finished or cancelled) changed, run by workers like any other. */
  revert(
    request: RequestContext,
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
  const tagged = (request: RequestContext): Ctx => forRequest(ctx, request);

  async function runInline(request: RequestContext, actor: Actor, input: SubmitInput): Promise<Batch> {
    const ctx = tagged(request);
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
    submit: (rq, actor, input) => wake(submitBatch(tagged(rq), actor, input, tuning)),
    runInline,
    submitGroup: (rq, submits) =>
      wake(
        withTx(tagged(rq), async (tx) => {
          const out: Batch[] = [];
          for (const { actor, input } of submits) out.push((await submitBatch(tx, actor, input, tuning)).batch);
          return out;
        }),
      ),
    cancel: (rq, b) => changed(wake(cancelBatch(tagged(rq), b))),
    pause: (rq, b) => changed(wake(pauseBatch(tagged(rq), b))),
    resume: (rq, b) => changed(wake(resumeBatch(tagged(rq), b))),
    retry: (rq, b) => changed(wake(retryBatch(tagged(rq), b))),
    rethrottle: (rq, b, rate) => changed(wake(rethrottleBatch(tagged(rq), b, rate))),
    reprioritize: (rq, b, priority) => changed(reprioritizeBatch(tagged(rq), b, priority)),
    revert: async (rq, actor, b, o) => {
      const input: SubmitInput = {
        operation: 'revert',
        target: { revert_of: b.id },
        dry_run: o.dry_run === true,
        source: o.source ?? 'native',
      };
      if (o.comment !== undefined) input.comment = o.comment;
      if (o.priority !== undefined) input.priority = o.priority;
      return (await wake(submitBatch(tagged(rq), actor, input, tuning))).batch;
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

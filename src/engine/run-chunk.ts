import { sql } from 'kysely';
import type { Ctx } from '../core/context.ts';
import { decideTickets, revertItems, runAction, updateItems } from '../core/operations/run.ts';
import type { Actor, Outcome } from '../core/operations/types.ts';
import { standingIn } from '../core/auth.ts';
import type { WorkChunkRow } from '../db/schema.ts';
import { coerceError } from '../errors.ts';
import { isModelOperation, RUNNABLE } from '../core/states.ts';
import { findBatch, sliceSize, type Batch } from './batches.ts';
import { finalizeIfDone } from './finalize-if-done.ts';
import {
  applyModelOp,
  MODEL_SLICE_ITEMS,
  prepareModelSlice,
  readsBeforeSlices,
  type ModelSlicePrep,
} from './model-ops/run-model-op.ts';
import { completeChunk } from './sql/complete-chunk.ts';
import { failChunk } from './sql/fail-chunk.ts';
import { heartbeat } from './sql/heartbeat.ts';
import { releaseChunk } from './sql/release-chunk.ts';

export const MAX_CHUNK_ATTEMPTS = 5;
/**
 * Retries of a slice that failed on a transient error back off from 50 ms to this: a restarting PostgreSQL
 * refuses connections for a second or more, and one probe every 2 s per loop costs it nothing.
 */
const MAX_RETRY_PAUSE_MS = 2_000;

export interface ChunkRunner {
  ctx: Ctx;
  owner: string;
  leaseMs: number;
  /** True once the worker is shutting down: the chunk in hand is released after the current slice. */
  stopping(): boolean;
  /** Told after every committed slice, so progress subscribers can push at once. */
  onProgress?(batchId: string): void;
}

export type ChunkResult = 'done' | 'released' | 'lost';

/** Outcomes a committed slice recorded, for the items-processed counter (counted only once it commits). */
type Counts = Record<'succeeded' | 'failed' | 'skipped', number>;

type Slice =
  | { kind: 'progress'; counts: Counts }
  | { kind: 'done'; counts: Counts }
  | { kind: 'lost' }
  | { kind: 'paused' }
  | { kind: 'wait'; until: number };

interface PendingItem {
  seq: number;
  target_id: string;
  expected_rev: number | null;
  expected_datastore_id: string | null;
}

/**
 * Runs a leased chunk slice by slice. Each slice is one transaction holding everything that belongs together:
 * the lease fence, the item changes with their history and tickets (src/core/operations), the batch-item
 * outcomes and the batch counters. A worker killed at any instant loses at most an uncommitted slice, which
 * the next owner of the chunk runs again from the still-pending items; nothing is applied twice.
 */
export async function runChunk(r: ChunkRunner, chunk: WorkChunkRow): Promise<ChunkResult> {
  const ids = { batch_id: chunk.batch_id, chunk_id: chunk.id };
  const { metrics, log } = r.ctx;
  // One line per chunk (1000 items) at debug, never one per item: the hot path stays quiet at info.
  log.debug(
    { ...ids, seq_from: chunk.seq_from, seq_to: chunk.seq_to, attempt: chunk.attempts, owner: r.owner },
    'chunk claimed',
  );
  let actor: Actor | null | undefined;
  // Only a reverse reads anything before its slices: other batches pay one query per chunk for knowing it.
  const prepares = readsBeforeSlices((await findBatch(r.ctx, chunk.batch_id))?.operation ?? '');
  /** Consecutive transient failures of this chunk's slices. */
  let retries = 0;
  /** When our lease ends at the latest, as far as we know: set by the claim, then by each committed heartbeat. */
  let leaseUntil = chunk.lease_until ?? 0;
  for (;;) {
    // One macrotask between slices. SQLite's connection lock wakes its waiters with promise callbacks, which run
    // only after this flow's next synchronous re-lock: without the turn, a 1M-item batch kept every API request
    // of the process waiting for its whole run (a GET waited 3 minutes in test/engine/fairness.test.ts).
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (r.stopping()) {
      await releaseChunk(r.ctx, chunk.id, r.owner, false);
      log.info({ ...ids, reason: 'shutdown' }, 'chunk released');
      return 'released';
    }
    let slice: Slice;
    const timer = metrics.sliceSeconds.startTimer();
    const sliceStart = r.ctx.now();
    try {
      // A fresh lease for the source read, which may take up to its timeouts (25 s) before the slice's own fence.
      if (prepares && !(await heartbeat(r.ctx, chunk.id, r.owner, r.leaseMs))) return 'lost';
      const prep = prepares ? await prepareSlice(r.ctx, chunk) : undefined;
      slice = await r.ctx.db.transaction().execute(async (trx) => {
        const tx = { ...r.ctx, db: trx };
        if (!(await heartbeat(tx, chunk.id, r.owner, r.leaseMs))) return { kind: 'lost' } as const;
        await holdBatch(tx, chunk.batch_id);
        const batch = await findBatch(tx, chunk.batch_id);
        if (!batch || !RUNNABLE.includes(batch.state)) {
          if (batch?.state === 'paused') return { kind: 'paused' } as const;
          // Cancelled under us: the cancel left the chunks to us (controls.ts cancelBatch).
          await completeChunk(tx, chunk.id, r.owner);
          return { kind: 'lost' } as const;
        }
        if (batch.not_before > tx.now()) return { kind: 'wait', until: batch.not_before } as const;
        if (actor === undefined) actor = await batchActor(tx, batch);
        return runSlice(tx, batch, chunk, actor, prep);
      });
    } catch (e) {
      const err = coerceError(e);
      if (r.ctx.caps.isTransient(e)) {
        // Keep the lease and run the slice again after a pause. Releasing the chunk would need the database that
        // just failed: with PostgreSQL restarting, the release failed too and left the chunk leased, and the batch
        // stalled for a whole lease (30 s by default) per chunk in hand. Running again is safe: the slice rolled
        // back (or, if its COMMIT went through unacknowledged, its items are no longer pending), and the next
        // slice's heartbeat says whether the chunk is still ours. No outage counts as an attempt of the chunk.
        // Once the lease has lapsed the chunk may be another worker's: hand it back to the claim loop (or, inline,
        // to the request), which sees it reaped or released as leftover once the database answers.
        if (r.ctx.now() >= leaseUntil) {
          log.warn({ err, ...ids }, 'chunk slice failed on a transient error until its lease lapsed');
          return 'lost';
        }
        const pauseMs = Math.min(MAX_RETRY_PAUSE_MS, 50 * 2 ** retries++, Math.max(1, leaseUntil - r.ctx.now()));
        log.warn(
          { err, ...ids, retry: retries, pause_ms: pauseMs },
          'chunk slice failed on a transient error; retrying',
        );
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
        continue;
      }
      log.error({ err, ...ids, attempt: chunk.attempts }, 'chunk slice failed');
      if (chunk.attempts >= MAX_CHUNK_ATTEMPTS) {
        const failed = await r.ctx.db.transaction().execute(async (trx) => {
          const tx = { ...r.ctx, db: trx };
          const n = await failChunk(tx, chunk, r.owner, err.message);
          if (n !== null) await finalizeIfDone(tx, chunk.batch_id);
          return n;
        });
        if (failed !== null) {
          metrics.itemsProcessed.inc({ outcome: 'failed' }, failed);
          log.error(
            { ...ids, attempts: chunk.attempts, items_failed: failed },
            'chunk failed: its pending items failed with INTERNAL',
          );
        }
        r.onProgress?.(chunk.batch_id);
        return 'done';
      }
      await releaseChunk(r.ctx, chunk.id, r.owner, true);
      log.info({ ...ids, reason: 'error', attempt: chunk.attempts }, 'chunk released');
      return 'released';
    }
    retries = 0;
    // The slice's heartbeat ran after sliceStart, so the lease lasts at least this long.
    if (slice.kind !== 'lost') leaseUntil = sliceStart + r.leaseMs;
    if (slice.kind === 'progress' || slice.kind === 'done') {
      timer();
      for (const [outcome, n] of Object.entries(slice.counts)) if (n) metrics.itemsProcessed.inc({ outcome }, n);
    }
    switch (slice.kind) {
      case 'progress':
        r.onProgress?.(chunk.batch_id);
        continue;
      case 'done':
        r.onProgress?.(chunk.batch_id);
        log.debug(ids, 'chunk done');
        return 'done';
      case 'lost':
        log.info(ids, 'chunk lost: its lease was reclaimed or the batch ended');
        return 'lost';
      case 'paused':
        await releaseChunk(r.ctx, chunk.id, r.owner, false);
        log.info({ ...ids, reason: 'paused' }, 'chunk released');
        return 'released';
      case 'wait':
        // Give the chunk back rather than sleep holding it: the claim skips it until `not_before`, and the loop
        // runs other batches meanwhile. Sleeping here held SQLite's one chunk loop: under `npm run bench:load`
        // a 20 items/s batch kept all 292 batches submitted during a 5 s phase queued until it was cancelled
        // (and every submit's wake-up re-ran a slice transaction only to find it still had to wait).
        await releaseChunk(r.ctx, chunk.id, r.owner, false);
        return 'released';
    }
  }
}

/**
 * Holds the batch row for the rest of the slice in KEY SHARE mode (PostgreSQL), before its state is read: a pause
 * (pauseBatch) takes the row FOR UPDATE, so it waits for every slice that read the batch as runnable to commit,
 * and a slice that starts after it reads `paused`. Without it a slice that began before the pause committed after
 * it, and items kept changing after the pause had answered. KEY SHARE, not SHARE: concurrent slices of one batch
 * still update its counters (NO KEY UPDATE) without waiting on each other. SQLite has one writer: a slice and a
 * pause never overlap there.
 */
async function holdBatch(tx: Ctx, batchId: string): Promise<void> {
  if (tx.caps.rowLocks) await tx.db.selectFrom('batch').select('id').where('id', '=', batchId).forKeyShare().execute();
}

/**
 * How many items one slice takes: the whole chunk (a model operation: MODEL_SLICE_ITEMS), or about a quarter
 * second's worth under a rate limit.
 */
function sliceLimit(batch: Batch, chunk: WorkChunkRow): number {
  return sliceSize(
    batch.max_rate,
    Math.min(chunk.seq_to - chunk.seq_from + 1, isModelOperation(batch.operation) ? MODEL_SLICE_ITEMS : Infinity),
  );
}

function pendingItems(ctx: Ctx, batch: Batch, chunk: WorkChunkRow, lock: boolean): Promise<PendingItem[]> {
  let q = ctx.db
    .selectFrom('batch_item')
    .select(['seq', 'target_id', 'expected_rev', 'expected_datastore_id'])
    .where('batch_id', '=', batch.id)
    .where('seq', '>=', chunk.seq_from)
    .where('seq', '<=', chunk.seq_to)
    .where('state', '=', 'pending')
    .orderBy('seq')
    .limit(sliceLimit(batch, chunk));
  if (lock && ctx.caps.rowLocks) q = q.forUpdate();
  return q.execute();
}

/** What the next slice must read from outside the database, read before its transaction (a reverse's source). */
async function prepareSlice(ctx: Ctx, chunk: WorkChunkRow): Promise<ModelSlicePrep | undefined> {
  const batch = await findBatch(ctx, chunk.batch_id);
  if (!batch || !RUNNABLE.includes(batch.state) || batch.not_before > ctx.now()) return undefined;
  const pending = await pendingItems(ctx, batch, chunk, false);
  return pending.length
    ? prepareModelSlice(
        ctx,
        batch,
        pending.map((p) => p.target_id),
      )
    : undefined;
}

async function runSlice(
  tx: Ctx,
  batch: Batch,
  chunk: WorkChunkRow,
  actor: Actor | null,
  prep: ModelSlicePrep | undefined,
): Promise<Slice> {
  const limit = sliceLimit(batch, chunk);
  // Locked so a concurrent cancel waits for this slice instead of skipping items it is changing.
  const pending = await pendingItems(tx, batch, chunk, true);

  const outcomes = pending.length ? await applyOperation(tx, batch, actor, pending, prep) : [];
  await recordOutcomes(tx, batch.id, pending, outcomes);

  const count = (s: Outcome['state']) => outcomes.filter((o) => o.state === s).length;
  const counts: Counts = { succeeded: count('succeeded'), failed: count('failed'), skipped: count('skipped') };
  const now = tx.now();
  // The rate limit is shared by every worker on the batch: each slice pushes not_before by its own share, added to
  // the row as it is now. Computed from the row read at the slice's start, concurrent slices (which start together
  // at the same not_before) each wrote the same value, and N loops ran the batch at N times its max_rate.
  const share = Math.round((pending.length / (batch.max_rate ?? 1)) * 1000);
  const notBefore =
    batch.max_rate && pending.length
      ? sql<number>`(case when not_before > ${now} then not_before else ${now} end) + ${share}`
      : sql<number>`not_before`;
  await tx.db
    .updateTable('batch')
    .set((eb) => ({
      succeeded: eb('succeeded', '+', counts.succeeded),
      failed: eb('failed', '+', counts.failed),
      skipped: eb('skipped', '+', counts.skipped),
      not_before: notBefore,
      updated_at: now,
    }))
    .where('id', '=', batch.id)
    .execute();

  const exhausted = pending.length < limit || pending.at(-1)!.seq === chunk.seq_to;
  if (!exhausted) return { kind: 'progress', counts };
  if (!(await completeChunk(tx, chunk.id, chunk.lease_owner!))) throw new Error('lease lost while completing a chunk');
  await finalizeIfDone(tx, batch.id);
  return { kind: 'done', counts };
}

/**
 * The submitter as they are now: a member removed since the submit no longer acts in the workspace. A batch an admin
 * submitted in the submitter's name (`acting_by`) runs only while that admin still administers the workspace.
 */
async function batchActor(tx: Ctx, batch: Batch): Promise<Actor | null> {
  const standing = await standingIn(tx, batch.submitted_by, batch.workspace_id);
  if (!standing) return null;
  const actor: Actor = { ...standing, workspaceId: batch.workspace_id };
  const actingBy = batch.params.acting_by;
  if (!actingBy || actingBy === batch.submitted_by) return actor;
  const by = await standingIn(tx, actingBy, batch.workspace_id);
  return by && by.role === 'admin' ? { ...actor, by: by.principal } : null;
}

function applyOperation(
  tx: Ctx,
  batch: Batch,
  actor: Actor | null,
  pending: PendingItem[],
  prep: ModelSlicePrep | undefined,
): Promise<Outcome[]> | Outcome[] {
  if (!actor) {
    return pending.map((p) => ({
      target_id: p.target_id,
      state: 'failed',
      error_code: 'FORBIDDEN',
      error_message:
        'The submitter no longer belongs to this workspace, or the admin who acted for them no longer administers it.',
    }));
  }
  const p = batch.params;
  const opts = {
    comment: p.comment ?? null,
    batchId: batch.id,
    dryRun: batch.dry_run,
    inBatch: true,
    notify: p.notify !== false,
  };
  const targets = pending.map((x) => ({
    id: x.target_id,
    ...(x.expected_rev === null ? {} : { rev_no: x.expected_rev }),
    ...(x.expected_datastore_id === null ? {} : { datastore_id: x.expected_datastore_id }),
  }));
  const ids = pending.map((x) => x.target_id);
  switch (batch.operation) {
    case 'action':
      return runAction(
        tx,
        actor,
        targets,
        {
          action: p.action!,
          fields: p.fields ?? null,
          skipApproval: p.skip_approval === true,
          approverUserId: p.approver_user_id ?? null,
        },
        opts,
      );
    case 'update':
      return updateItems(tx, actor, targets, p.fields ?? {}, opts);
    case 'approve':
    case 'reject':
    case 'withdraw':
      return decideTickets(tx, actor, ids, batch.operation, opts);
    case 'reverse_db':
    case 'transform_model':
      return applyModelOp(tx, batch, actor, ids, prep);
    case 'revert':
      return revertItems(tx, actor, targets, p.reverts_batch_id!, opts);
  }
}

/** Writes every outcome of the slice in one set-based pass; all of them must still have been pending. */
async function recordOutcomes(tx: Ctx, batchId: string, pending: PendingItem[], outcomes: Outcome[]): Promise<void> {
  if (pending.length === 0) return;
  const rows = pending.map((p, i) => {
    const o = outcomes[i]!;
    return { seq: p.seq, state: o.state, code: o.error_code, message: o.error_message };
  });
  const n = await tx.bulk.recordOutcomes(tx.db, batchId, rows, tx.now());
  if (n !== pending.length)
    throw new Error(`recorded ${n} of ${pending.length} outcomes: an item left pending under the lease`);
}

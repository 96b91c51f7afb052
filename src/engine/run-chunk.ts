import type { Ctx } from '../core/context.ts';
import { decideTickets, runAction, updateItems } from '../core/operations/run.ts';
import type { Actor, Outcome } from '../core/operations/types.ts';
import { standingIn } from '../core/auth.ts';
import type { WorkChunkRow } from '../db/schema.ts';
import { coerceError } from '../errors.ts';
import { finalizeIfDone, findBatch, type Batch } from './batches.ts';
import { completeChunk } from './sql/complete-chunk.ts';
import { failChunk } from './sql/fail-chunk.ts';
import { heartbeat } from './sql/heartbeat.ts';
import { releaseChunk } from './sql/release-chunk.ts';

export const MAX_CHUNK_ATTEMPTS = 5;

export interface ChunkRunner {
  ctx: Ctx;
  owner: string;
  leaseMs: number;
  /** True once the worker is shutting down: the chunk in hand is released after the current slice. */
  stopping(): boolean;
  /** Sleeps up to `ms`, waking early on a notification (rethrottle, cancel, pause). */
  sleep(ms: number): Promise<void>;
  /** Told after every committed slice, so progress subscribers can push at once. */
  onProgress?(batchId: string): void;
}

export type ChunkResult = 'done' | 'released' | 'lost';

type Slice = { kind: 'progress' } | { kind: 'done' } | { kind: 'lost' } | { kind: 'paused' } | { kind: 'wait'; until: number };

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
  let actor: Actor | null | undefined;
  for (;;) {
    if (r.stopping()) {
      await releaseChunk(r.ctx, chunk.id, r.owner, false);
      return 'released';
    }
    let slice: Slice;
    try {
      slice = await r.ctx.db.transaction().execute(async (trx) => {
        const tx = { ...r.ctx, db: trx };
        if (!(await heartbeat(tx, chunk.id, r.owner, r.leaseMs))) return { kind: 'lost' } as const;
        const batch = await findBatch(tx, chunk.batch_id);
        if (!batch || !['queued', 'scheduled', 'running'].includes(batch.state)) {
          return batch?.state === 'paused' ? ({ kind: 'paused' } as const) : ({ kind: 'lost' } as const);
        }
        if (batch.not_before > tx.now()) return { kind: 'wait', until: batch.not_before } as const;
        if (actor === undefined) actor = await batchActor(tx, batch);
        return runSlice(tx, batch, chunk, actor);
      });
    } catch (e) {
      const err = coerceError(e);
      r.ctx.log[r.ctx.caps.isTransient(e) ? 'warn' : 'error']({ err, chunk: chunk.id, batch: chunk.batch_id, attempt: chunk.attempts }, 'chunk slice failed');
      const transient = r.ctx.caps.isTransient(e);
      if (!transient && chunk.attempts >= MAX_CHUNK_ATTEMPTS) {
        await r.ctx.db.transaction().execute(async (trx) => {
          const tx = { ...r.ctx, db: trx };
          if (await failChunk(tx, chunk, r.owner, err.message)) await finalizeIfDone(tx, chunk.batch_id);
        });
        r.onProgress?.(chunk.batch_id);
        return 'done';
      }
      await releaseChunk(r.ctx, chunk.id, r.owner, !transient);
      return 'released';
    }
    switch (slice.kind) {
      case 'progress':
        r.onProgress?.(chunk.batch_id);
        continue;
      case 'done':
        r.onProgress?.(chunk.batch_id);
        return 'done';
      case 'lost':
        return 'lost';
      case 'paused':
        await releaseChunk(r.ctx, chunk.id, r.owner, false);
        return 'released';
      case 'wait':
        await r.sleep(Math.max(1, Math.min(slice.until - r.ctx.now(), r.leaseMs / 3)));
        continue;
    }
  }
}

/** How many items one slice takes: the whole chunk, or about a quarter second's worth under a rate limit. */
function sliceLimit(batch: Batch, chunk: WorkChunkRow): number {
  const size = chunk.seq_to - chunk.seq_from + 1;
  if (!batch.max_rate) return size;
  return Math.max(1, Math.min(size, Math.ceil(batch.max_rate / 4)));
}

async function runSlice(tx: Ctx, batch: Batch, chunk: WorkChunkRow, actor: Actor | null): Promise<Slice> {
  const limit = sliceLimit(batch, chunk);
  let q = tx.db
    .selectFrom('batch_item')
    .select(['seq', 'target_id', 'expected_rev', 'expected_datastore_id'])
    .where('batch_id', '=', batch.id)
    .where('seq', '>=', chunk.seq_from)
    .where('seq', '<=', chunk.seq_to)
    .where('state', '=', 'pending')
    .orderBy('seq')
    .limit(limit);
  // Locked so a concurrent cancel waits for this slice instead of skipping items it is changing.
  if (tx.caps.rowLocks) q = q.forUpdate();
  const pending: PendingItem[] = await q.execute();

  const outcomes = pending.length ? await applyOperation(tx, batch, actor, pending) : [];
  await recordOutcomes(tx, batch.id, pending, outcomes);

  const count = (s: Outcome['state']) => outcomes.filter((o) => o.state === s).length;
  const now = tx.now();
  // The rate limit is shared by every worker on the batch: each slice pushes not_before by its own share.
  const notBefore = batch.max_rate && pending.length ? Math.max(batch.not_before, now) + (pending.length / batch.max_rate) * 1000 : batch.not_before;
  await tx.db
    .updateTable('batch')
    .set((eb) => ({
      succeeded: eb('succeeded', '+', count('succeeded')),
      failed: eb('failed', '+', count('failed')),
      skipped: eb('skipped', '+', count('skipped')),
      not_before: Math.round(notBefore),
      updated_at: now,
    }))
    .where('id', '=', batch.id)
    .execute();

  const exhausted = pending.length < limit || pending.at(-1)!.seq === chunk.seq_to;
  if (!exhausted) return { kind: 'progress' };
  if (!(await completeChunk(tx, chunk.id, chunk.lease_owner!))) throw new Error('lease lost while completing a chunk');
  await finalizeIfDone(tx, batch.id);
  return { kind: 'done' };
}

/** The submitter as they are now: a member removed since the submit no longer acts in the workspace. */
async function batchActor(tx: Ctx, batch: Batch): Promise<Actor | null> {
  const standing = await standingIn(tx, batch.submitted_by, batch.workspace_id);
  return standing && { ...standing, workspaceId: batch.workspace_id };
}

function applyOperation(tx: Ctx, batch: Batch, actor: Actor | null, pending: PendingItem[]): Promise<Outcome[]> | Outcome[] {
  if (!actor) {
    return pending.map((p) => ({ target_id: p.target_id, state: 'failed', error_code: 'FORBIDDEN', error_message: 'The submitter no longer belongs to this workspace.' }));
  }
  const p = batch.params;
  const opts = { comment: p.comment ?? null, batchId: batch.id, dryRun: batch.dry_run, inBatch: true };
  const targets = pending.map((x) => ({
    id: x.target_id,
    ...(x.expected_rev === null ? {} : { rev_no: x.expected_rev }),
    ...(x.expected_datastore_id === null ? {} : { datastore_id: x.expected_datastore_id }),
  }));
  const ids = pending.map((x) => x.target_id);
  switch (batch.operation) {
    case 'action':
      return runAction(tx, actor, targets, { action: p.action!, fields: p.fields ?? null, skipApproval: p.skip_approval === true, approverUserId: p.approver_user_id ?? null }, opts);
    case 'update':
      return updateItems(tx, actor, targets, p.fields ?? {}, opts);
    case 'approve':
    case 'reject':
    case 'withdraw':
      return decideTickets(tx, actor, ids, batch.operation, opts);
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
  if (n !== pending.length) throw new Error(`recorded ${n} of ${pending.length} outcomes: an item left pending under the lease`);
}

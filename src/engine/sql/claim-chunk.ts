import { sql } from 'kysely';
import { withTx, type Ctx } from '../../core/context.ts';
import type { WorkChunkRow } from '../../db/schema.ts';
import { RUNNABLE, STARTABLE } from '../../core/states.ts';
import { sliceSize, toBatch } from '../batches.ts';
import { emitBatchEvent } from '../webhooks/batch-events.ts';

/**
 * Pass charged per item at priority 1; a batch of priority p pays PASS_PER_ITEM / p per item it is given.
 * At the default priority 10 a full 1000-item chunk costs 100,000, a 100-item chunk 10,000.
 */
export const PASS_PER_ITEM = 1000;

export interface ClaimOptions {
  /** Only this batch's chunks (an inline run): no fair share and no workspace limit, the caller waits on it. */
  batchId?: string;
  /** Max chunks running at once per workspace; 0 for no limit (BATCHGATE_WORKSPACE_CONCURRENCY). */
  workspaceLimit?: number;
}

/**
 * Leases one ready chunk, sharing the workers fairly between the runnable batches whose `not_before` has come
 * (schedule and rate limit): stride scheduling (Waldspurger & Weihl, 1995).
 *
 * - Every batch has a `pass`. The claim takes a chunk of the batch with the lowest pass (ties: the newer batch),
 *   then charges it `items × 1000 / priority` for the items its first slice will run (the chunk, or a rate-limited
 *   slice). Two batches at priority 10 both pay 100,000 per 1000-item chunk, so they alternate chunk by chunk:
 *   a 100-item batch submitted behind a 1,000,000-item one starts level with it and wins the tie, so the next
 *   claim takes it: it waits for at most the one chunk each worker loop is running (40–250 ms measured), not
 *   for the other 999 chunks. Priorities 30 and 10 pay 33,334 and 100,000 per chunk, so the first gets three
 *   chunks for each of the second's.
 * - Charging items rather than chunks keeps the share in items: a batch's last, short chunk costs what it runs.
 * - A new, resumed or retried batch starts at the lowest pass of the runnable batches (submit.ts, controls.ts).
 *   A batch that sat out while runnable (scheduled, waiting on its rate limit, blocked by its workspace's limit)
 *   is lifted when claimed: its charge starts from the floor, the highest pass another runnable batch's latest
 *   claim started from (`base_pass`). A batch that competed all along is never below that floor (each of those
 *   claims took the lowest pass, its own included), so the weights are untouched; one that sat out comes back
 *   level with the others, with a chunk or two of head start, never a burst of catch-up that starves them
 *   (test/engine/fairness.test.ts: a batch scheduled while another ran 30 chunks takes 2 claims in a row once
 *   due, then alternates; unlifted it would take the next 30). Nothing a batch does while not runnable
 *   (paused, not yet due) holds back the others: only runnable, due chunks compete.
 * - Deterministic (unlike lottery scheduling), so tests assert shares; weighted (unlike plain round-robin).
 *
 * Per-workspace limit: with `workspaceLimit` L, a workspace already running L chunks is skipped, and the claimed
 * chunk takes the lowest free slot 0…L-1 of its workspace. The partial unique index on (workspace_id, slot) of
 * running chunks (migration 0008) makes a second concurrent claim of the same slot fail, so the limit holds
 * across processes without a lock; the loser (a unique violation, PostgreSQL only) simply claims again.
 *
 * One statement picks and leases the chunk: on PostgreSQL with FOR UPDATE SKIP LOCKED, so concurrent workers never
 * wait on or take the same chunk; SQLite has one writer, so the plain sub-select is already exclusive (three
 * concurrent claims got three different rows on both, when tried). It orders the runnable batches
 * (a few rows), not their chunks, then takes the first ready chunk of the best one by index, so its cost does not
 * grow with the work queued (figures in docs/performance.md, Engine internals). The lease and the charge share
 * one transaction (a lost connection between them left the chunk leased to nobody running it).
 */
export async function claimChunk(
  ctx: Ctx,
  owner: string,
  leaseMs: number,
  opts: ClaimOptions = {},
): Promise<WorkChunkRow | null> {
  for (let attempt = 1; ; attempt++) {
    try {
      // One transaction: a connection lost between the lease and the charge must not leave a chunk leased to a
      // worker that saw the claim fail and never runs it (nor a batch marked running without its chunk).
      return await withTx(ctx, async (tx) => {
        const chunk = await leaseOne(tx, owner, leaseMs, opts);
        if (!chunk) return null;
        const { batch_priority: priority, batch_max_rate: maxRate, ...row } = chunk;
        await charge(tx, row, priority, maxRate);
        return row;
      });
    } catch (e) {
      // Another worker took the same free slot of the workspace an instant earlier: look again, in a new
      // transaction (on PostgreSQL the failed one is aborted).
      if (attempt < 5 && ctx.caps.isUniqueViolation(e)) continue;
      throw e;
    }
  }
}

/** The claimed chunk, with what the charge needs of its batch (read in the same statement, saving a round trip). */
type Claimed = WorkChunkRow & { batch_priority: number; batch_max_rate: number | null };

async function leaseOne(ctx: Ctx, owner: string, leaseMs: number, opts: ClaimOptions): Promise<Claimed | null> {
  const now = ctx.now();
  const limit = opts.batchId ? 0 : Math.max(0, Math.floor(opts.workspaceLimit ?? 0));
  const onlyBatch = opts.batchId ? sql`and b.id = ${opts.batchId}` : sql``;
  const underLimit =
    limit > 0
      ? sql`and b.workspace_id not in (
          select r.workspace_id from work_chunk r where r.state = 'running' and r.workspace_id is not null
          group by r.workspace_id having count(*) >= ${limit})`
      : sql``;
  const due = sql`b.state in (${sql.join(RUNNABLE.map((s) => sql.lit(s)))}) and b.not_before <= ${now} ${onlyBatch} ${underLimit}`;
  // The batch first (a few rows), then its first ready chunk through work_chunk_claim (state, batch_id, seq_from).
  const pick = ctx.caps.skipLocked
    ? // Locks exactly the one chunk it returns: the nested loop stops at the first batch with an unlocked one.
      sql`select c.id from (select b.id from batch b where ${due} order by b.pass, b.id desc) b
          cross join lateral (select c.id from work_chunk c where c.batch_id = b.id and c.state = 'ready' order by c.seq_from limit 1 for update skip locked) c
          limit 1`
    : sql`select (select c.id from work_chunk c where c.batch_id = b.id and c.state = 'ready' order by c.seq_from limit 1) from batch b
          where ${due} and exists (select 1 from work_chunk r where r.batch_id = b.id and r.state = 'ready')
          order by b.pass, b.id desc limit 1`;
  // The lowest slot no running chunk of the workspace holds: 0, or one past a held slot.
  const slot =
    limit > 0
      ? sql`(select min(s.n) from (
            select 0 as n
            union all select r.slot + 1 from work_chunk r where r.state = 'running' and r.workspace_id = work_chunk.workspace_id and r.slot is not null) s
          where not exists (select 1 from work_chunk h where h.state = 'running' and h.workspace_id = work_chunk.workspace_id and h.slot = s.n))`
      : sql`null`;
  const res = await sql<Claimed>`
    update work_chunk set state = 'running', lease_owner = ${owner}, lease_until = ${now + leaseMs}, attempts = attempts + 1, slot = ${slot}
    where id = (${pick}) and state = 'ready'
    returning *, (select b.priority from batch b where b.id = work_chunk.batch_id) as batch_priority,
      (select b.max_rate from batch b where b.id = work_chunk.batch_id) as batch_max_rate`.execute(ctx.db);
  return res.rows[0] ?? null;
}

/**
 * Marks the batch running (with its batch.started webhook event) and charges its pass for the claimed slice, from
 * no lower than the floor (see above). Not in the lease's statement (SQLite has no data-modifying CTE), but in its
 * transaction (claimChunk).
 */
async function charge(tx: Ctx, chunk: WorkChunkRow, priority: number, maxRate: number | null): Promise<void> {
  const now = tx.now();
  const cost = Math.ceil(
    (sliceSize(maxRate, chunk.seq_to - chunk.seq_from + 1) * PASS_PER_ITEM) / Math.max(1, priority),
  );
  const floor = sql`coalesce((select max(o.base_pass) from batch o where o.state in (${sql.join(RUNNABLE.map((s) => sql.lit(s)))}) and o.id <> ${chunk.batch_id}), 0)`;
  const from = tx.caps.greatest(sql.ref('pass'), floor);
  await tx.db
    .updateTable('batch')
    .set({ base_pass: from, pass: sql`${from} + ${cost}`, updated_at: now })
    .where('id', '=', chunk.batch_id)
    .execute();
  const started = await tx.db
    .updateTable('batch')
    .set({ state: 'running', started_at: sql`coalesce(started_at, ${now})`, updated_at: now })
    .where('id', '=', chunk.batch_id)
    .where('state', 'in', STARTABLE)
    .returningAll()
    .executeTakeFirst();
  if (!started) return;
  await emitBatchEvent(tx, 'batch.started', toBatch(tx, started));
  tx.log.info({ batch_id: chunk.batch_id, owner: chunk.lease_owner }, 'batch started');
}

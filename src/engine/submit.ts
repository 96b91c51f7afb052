import { createHash } from 'node:crypto';
import { sql, type RawBuilder } from 'kysely';
import type { Condition } from '../core/conditions.ts';
import { compileConditions } from '../core/conditions.ts';
import { canonical } from '../core/canonical.ts';
import { withTx, type Ctx } from '../core/context.ts';
import type { Datastore } from '../core/datastore-model.ts';
import { getDatastore } from '../core/datastores.ts';
import { normalizeFieldValues } from '../core/field-values.ts';
import { roleAllows } from '../core/roles.ts';
import type { ModelOpParams } from '../core/models/op-params.ts';
import type { Actor } from '../core/operations/types.ts';
import type { BatchRow } from '../db/schema.ts';
import { AppError, fail } from '../errors.ts';
import { isModelOperation, PRIORITY, REVERTIBLE, type BatchState, type Operation } from './batch-states.ts';
import { findBatch, toBatch, type Batch, type BatchParams } from './batches.ts';
import { emitBatchEnd, emitBatchEvent } from './webhooks/batch-events.ts';
import { lowestPass } from './sql/lowest-pass.ts';

export type Target =
  | {
      ids: string[];
      /** Expected rev_no per item id: that item fails with REVISION_CONFLICT if it moved on (Hexabase item_revisions). */
      revisions?: Record<string, number>;
      /** Expected datastore id per item id: an item found in another datastore fails with ITEM_NOT_FOUND (DataArts biz_type). */
      datastores?: Record<string, string>;
    }
  | {
      datastore: string;
      conditions?: Condition[];
      use_or_condition?: boolean;
      /** Take at most this many of the matching items (in id order); `matched` records how many there were. */
      limit?: number;
      revisions?: Record<string, number>;
    }
  | {
      /** A `revert` batch's targets: every item this batch of the workspace changed (freezeRevertTargets below). */
      revert_of: string;
    };

export interface SubmitInput {
  operation: Operation;
  target: Target;
  action?: string;
  fields?: Record<string, unknown>;
  comment?: string;
  dry_run?: boolean;
  /** Epoch ms; in the future makes the batch `scheduled`. */
  start_at?: number | null;
  max_rate?: number | null;
  idempotency_key?: string | null;
  /** Which door the batch came through (native, dataarts, hexabase, batch-approvals), for audit. */
  source?: string;
  approver_user_id?: string | null;
  skip_approval?: boolean;
  /** Joins the batch to a group (one request over several workspaces). */
  group_id?: string | null;
  /** Recorded on the batch for audit (as_params, env_type, …). */
  meta?: Record<string, unknown> | null;
  /** What a model operation (reverse_db, transform_model) does; its targets are table names or entity ids. */
  model_op?: ModelOpParams | null;
  /**
   * The request as the caller sent it, hashed for Idempotency-Key instead of this input: a model operation reads
   * its targets from a database at submit, and a retry of the same request must find the same batch even when
   * those changed in between.
   */
  request?: unknown;
  /** False: no webhook events for the tickets the batch opens and decides (Jira's sendBulkNotification). Default true. */
  notify?: boolean;
  /** PRIORITY.min–max: the batch's weight in the fair share of workers; PRIORITY.default when absent. */
  priority?: number;
}

export interface EngineTuning {
  /** Targets per lease. 1000 keeps a slice's transaction near 15 ms at the measured rates while a 1M-item batch
   * needs only 1000 chunk rows. */
  chunkSize: number;
}

export const DEFAULT_TUNING: EngineTuning = Object.freeze({ chunkSize: 1000 });

const ROWS_PER_INSERT = 1000;

function requestHash(input: SubmitInput): string {
  const { idempotency_key: _k, source: _s, request, ...rest } = input;
  return createHash('sha256')
    .update(canonical(request === undefined ? rest : { operation: input.operation, request }))
    .digest('hex');
}

export function checkPriority(priority: number): void {
  if (!Number.isInteger(priority) || priority < PRIORITY.min || priority > PRIORITY.max) {
    fail('VALIDATION_FAILED', `priority must be an integer from ${PRIORITY.min} to ${PRIORITY.max}.`);
  }
}

function isTicketOperation(op: Operation): boolean {
  return op === 'approve' || op === 'reject' || op === 'withdraw';
}

/**
 * Freezes the target set and records the batch, its items and its chunks in one transaction; workers do the
 * rest. Conditions are resolved here, set-based in the database (INSERT … SELECT with row_number), so the set
 * never drifts and `total` is known at once. A repeated Idempotency-Key with the same request returns the
 * batch it made; with a different request it is refused.
 */
export async function submitBatch(
  ctx: Ctx,
  actor: Actor,
  input: SubmitInput,
  tuning: EngineTuning = DEFAULT_TUNING,
): Promise<{ batch: Batch; created: boolean }> {
  if (
    (input.operation === 'action' ||
      input.operation === 'update' ||
      input.operation === 'revert' ||
      isModelOperation(input.operation)) &&
    !roleAllows(actor.role, 'write')
  ) {
    fail('FORBIDDEN', `The ${actor.role} role may not change items.`);
  }
  if (input.operation === 'action' && !input.action) fail('VALIDATION_FAILED', 'An action batch needs `action`.');
  if (input.operation === 'update' && (!input.fields || Object.keys(input.fields).length === 0)) {
    fail('VALIDATION_FAILED', 'An update batch needs `fields`.');
  }
  if (input.priority !== undefined) checkPriority(input.priority);
  const hash = requestHash(input);
  if (input.idempotency_key) {
    const existing = await findByKey(ctx, actor.workspaceId, input.idempotency_key);
    if (existing) return replay(existing, hash);
  }

  // The caller's conditions decide what matching them costs, so they are matched through ctx.reader (under the
  // request's query time limit) and outside the transaction. Where the reader runs off the event loop (SQLite's
  // threads), it resolves the targets themselves and the transaction only inserts those ids: the predicate never
  // runs on the event loop. Elsewhere it counts them first, bounding the transaction's INSERT … SELECT.
  let counted: number | null = null;
  let resolved: string[] | null = null;
  if ('datastore' in input.target && input.target.conditions?.length) {
    const ds = await getDatastore(ctx, actor.workspaceId, input.target.datastore);
    checkTargetAction(ds, input);
    const { from, key } = conditionSource(ctx, actor.workspaceId, input.operation, ds, input.target, ctx.now());
    const read = <R>(q: RawBuilder<R>) => ctx.reader.read(ctx.db, q.compile(ctx.db), actor.workspaceId);
    if (!ctx.reader.offEventLoop || input.target.limit !== undefined)
      counted = Number((await read(sql<{ n: number }>`select count(*) as n ${from}`))[0]!.n);
    if (ctx.reader.offEventLoop) {
      const ordered = input.target.limit !== undefined ? capTo(key, input.target.limit) : sql`order by ${key}`;
      resolved = (await read(sql<{ k: string }>`select ${key} as k ${from} ${ordered}`)).map((r) => r.k);
    }
  }

  try {
    const submitted = await withTx(ctx, async (tx) => {
      const now = tx.now();
      const id = tx.ids.next();
      const params: BatchParams = {
        action: input.action ?? null,
        fields: input.fields ?? null,
        comment: input.comment ?? null,
        approver_user_id: input.approver_user_id ?? null,
        skip_approval: input.skip_approval === true,
        meta: input.meta ?? null,
        ...(input.model_op ? { model_op: input.model_op } : {}),
        notify: input.notify !== false,
        ...(actor.by && actor.by.userId !== actor.principal.userId ? { acting_by: actor.by.userId } : {}),
      };
      const revisions = 'revert_of' in input.target ? null : (input.target.revisions ?? null);
      const datastores = 'ids' in input.target ? (input.target.datastores ?? null) : null;
      let matched: number | null = null;

      let total: number;
      if ('ids' in input.target) {
        const ids = [...new Set(input.target.ids)];
        for (let i = 0; i < ids.length; i += ROWS_PER_INSERT) {
          await tx.db
            .insertInto('batch_item')
            .values(
              ids.slice(i, i + ROWS_PER_INSERT).map((t, j) => ({
                batch_id: id,
                seq: i + j + 1,
                target_id: t,
                state: 'pending',
                attempts: 0,
                expected_rev: revisions?.[t] ?? null,
                expected_datastore_id: datastores?.[t] ?? null,
              })),
            )
            .execute();
        }
        total = ids.length;
      } else if ('revert_of' in input.target) {
        params.reverts_batch_id = input.target.revert_of;
        total = await freezeRevertTargets(tx, actor.workspaceId, input.target.revert_of, id);
      } else {
        const ds = await getDatastore(tx, actor.workspaceId, input.target.datastore);
        checkTargetAction(ds, input);
        if (input.operation === 'update') normalizeFieldValues(ds.fieldByKey, input.fields);
        Object.assign(params, {
          datastore_id: ds.id,
          conditions: input.target.conditions ?? [],
          use_or_condition: input.target.use_or_condition === true,
        });
        const { from, key } = conditionSource(tx, actor.workspaceId, input.operation, ds, input.target, now);
        const limit = input.target.limit;
        if (limit !== undefined) {
          matched =
            counted ?? Number((await sql<{ n: number }>`select count(*) as n ${from}`.execute(tx.db)).rows[0]!.n);
        }
        if (resolved) {
          for (let i = 0; i < resolved.length; i += ROWS_PER_INSERT) {
            const part = resolved
              .slice(i, i + ROWS_PER_INSERT)
              .map((t, j) => ({ batch_id: id, seq: i + j + 1, target_id: t, state: 'pending', attempts: 0 }));
            await tx.db.insertInto('batch_item').values(part).execute();
          }
          total = resolved.length;
        } else {
          const res = await sql`insert into batch_item (batch_id, seq, target_id, state, attempts)
            select ${id}, row_number() over (order by t.k), t.k, 'pending', 0 from (select ${key} as k ${from} ${capTo(key, limit)}) t`.execute(
            tx.db,
          );
          total = Number(res.numAffectedRows ?? 0n);
        }
        if (revisions && total > 0) {
          const entries = Object.entries(revisions);
          for (let i = 0; i < entries.length; i += 500) {
            const part = entries.slice(i, i + 500);
            await tx.db
              .updateTable('batch_item')
              .set({
                expected_rev: sql<number>`case target_id ${sql.join(
                  part.map(([t, rev]) => sql`when ${t} then cast(${rev} as integer)`),
                  sql` `,
                )} end`,
              })
              .where('batch_id', '=', id)
              .where(
                'target_id',
                'in',
                part.map(([t]) => t),
              )
              .execute();
          }
        }
      }

      const startAt = input.start_at ?? null;
      const scheduled = startAt !== null && startAt > now;
      const pass = total === 0 ? 0 : await lowestPass(tx);
      const row: BatchRow = {
        id,
        workspace_id: actor.workspaceId,
        operation: input.operation,
        state: total === 0 ? 'succeeded' : scheduled ? 'scheduled' : 'queued',
        params: tx.caps.writeJson(params),
        submitted_by: actor.principal.userId,
        total,
        succeeded: 0,
        failed: 0,
        skipped: 0,
        dry_run: input.dry_run ? 1 : 0,
        max_rate: input.max_rate ?? null,
        not_before: scheduled ? startAt : now,
        start_at: startAt,
        idempotency_key: input.idempotency_key ?? null,
        request_hash: hash,
        attempt: 1,
        source: input.source ?? 'native',
        error: null,
        group_id: input.group_id ?? null,
        matched,
        created_at: now,
        started_at: total === 0 ? now : null,
        finished_at: total === 0 ? now : null,
        updated_at: now,
        items_purged_at: null,
        items_purge_pending: 0,
        priority: input.priority ?? PRIORITY.default,
        pass,
        base_pass: pass,
      };
      await tx.db.insertInto('batch').values(row).execute();

      const chunks = [];
      for (let from = 1; from <= total; from += tuning.chunkSize) {
        chunks.push({
          id: tx.ids.next(),
          batch_id: id,
          workspace_id: actor.workspaceId,
          seq_from: from,
          seq_to: Math.min(total, from + tuning.chunkSize - 1),
          state: 'ready',
          lease_owner: null,
          lease_until: null,
          attempts: 0,
          slot: null,
        });
      }
      for (let i = 0; i < chunks.length; i += 500)
        await tx.db
          .insertInto('work_chunk')
          .values(chunks.slice(i, i + 500))
          .execute();
      const batch = toBatch(tx, row);
      await emitBatchEvent(tx, 'batch.created', batch);
      // Nothing matched: the batch is born finished, and says so.
      if (total === 0) await emitBatchEnd(tx, batch);
      return { batch, created: true };
    });
    const b = submitted.batch;
    ctx.log.info(
      {
        batch_id: b.id,
        workspace_id: b.workspace_id,
        operation: b.operation,
        state: b.state,
        total: b.total,
        source: b.source,
        group_id: b.group_id,
      },
      'batch submitted',
    );
    return submitted;
  } catch (e) {
    // Two submits with one key raced: the unique index let one through; answer as a replay of it.
    if (input.idempotency_key && !(e instanceof AppError)) {
      const existing = await findByKey(ctx, actor.workspaceId, input.idempotency_key);
      if (existing) return replay(existing, hash);
    }
    throw e;
  }
}

/** The first `limit` targets in id order, when a limit is given. */
function capTo(key: RawBuilder<unknown>, limit: number | undefined): RawBuilder<unknown> {
  return limit !== undefined ? sql`order by ${key} limit ${sql.lit(Math.max(0, Math.floor(limit)))}` : sql``;
}

function checkTargetAction(ds: Datastore, input: SubmitInput): void {
  if (input.operation === 'action' && !ds.actionByKey.get(input.action!)) {
    fail('ACTION_NOT_FOUND', `Datastore "${ds.display_id}" has no action "${input.action}".`);
  }
}

/** The rows a target by conditions selects: items, or for ticket operations the pending tickets of the items. */
function conditionSource(
  c: Ctx,
  workspaceId: string,
  operation: Operation,
  ds: Datastore,
  target: { conditions?: Condition[]; use_or_condition?: boolean },
  now: number,
) {
  const where = sql<boolean>`item.datastore_id = ${sql.lit(ds.id)} and ${compileConditions(c.caps, ds, target.conditions, target.use_or_condition === true, now)}`;
  const from = isTicketOperation(operation)
    ? sql`from ticket join item on item.id = ticket.item_id where ticket.workspace_id = ${workspaceId} and ticket.state = 'pending' and ${where}`
    : sql`from item where ${where}`;
  const key = isTicketOperation(operation) ? sql.ref('ticket.id') : sql.ref('item.id');
  return { from, key };
}

/**
 * The batch `input`'s Idempotency-Key already made for this same request, or null when the key is new (or none);
 * IDEMPOTENCY_KEY_REUSED when it was used with another request. For a submit that writes before the batch is
 * recorded (a transform creates its target model): asked first, a refused replay writes nothing.
 */
export async function findReplay(ctx: Ctx, workspaceId: string, input: SubmitInput): Promise<Batch | null> {
  if (!input.idempotency_key) return null;
  const existing = await findByKey(ctx, workspaceId, input.idempotency_key);
  return existing && replay(existing, requestHash(input)).batch;
}

/**
 * A revert's targets, frozen like any other: the items the reverted batch changed (its history entries; each
 * item once), in id order. Checked in the submit's transaction, so a retry that just requeued the batch is seen.
 */
async function freezeRevertTargets(tx: Ctx, workspaceId: string, revertOf: string, batchId: string): Promise<number> {
  const target = await tx.db
    .selectFrom('batch')
    .select(['state', 'dry_run'])
    .where('id', '=', revertOf)
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirst();
  if (!target) fail('BATCH_NOT_FOUND');
  if (!REVERTIBLE.includes(target.state as BatchState)) {
    fail('BATCH_STATE', `The batch is ${target.state}; only a ${REVERTIBLE.join(', ')} batch can be reverted.`);
  }
  if (target.dry_run) fail('NOT_REVERTIBLE', 'The batch was a dry run: it changed nothing to revert.');
  const res = await sql`insert into batch_item (batch_id, seq, target_id, state, attempts)
    select ${batchId}, row_number() over (order by t.item_id), t.item_id, 'pending', 0
    from (select distinct h.item_id from item_history h where h.batch_id = ${revertOf} and h.workspace_id = ${workspaceId}) t`.execute(
    tx.db,
  );
  return Number(res.numAffectedRows ?? 0n);
}

async function findByKey(ctx: Ctx, workspaceId: string, key: string): Promise<Batch | null> {
  const row = await ctx.db
    .selectFrom('batch')
    .select('id')
    .where('workspace_id', '=', workspaceId)
    .where('idempotency_key', '=', key)
    .executeTakeFirst();
  return row ? findBatch(ctx, row.id) : null;
}

function replay(existing: Batch, hash: string): { batch: Batch; created: boolean } {
  if (existing.request_hash !== hash) fail('IDEMPOTENCY_KEY_REUSED');
  return { batch: existing, created: false };
}

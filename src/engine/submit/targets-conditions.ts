import { sql, type RawBuilder } from 'kysely';
import { compileConditions, type Condition } from '../../core/conditions.ts';
import type { Ctx } from '../../core/context.ts';
import type { Datastore } from '../../core/datastore-model.ts';
import { getDatastore } from '../../core/datastores.ts';
import { normalizeFieldValues } from '../../core/field-values.ts';
import { AppError, fail } from '../../errors.ts';
import type { Operation } from '../../core/states.ts';
import { ROWS_PER_INSERT, type ConditionsTarget, type FrozenTargets, type SubmitInput } from './input.ts';

/** Rows per UPDATE when expected revisions are set on the frozen items. */
const REVISIONS_PER_UPDATE = 500;

/** A conditions target with `over_limit: 'refuse'` matched more than its limit: nothing was recorded. */
export class TooManyTargets extends AppError {
  constructor(
    readonly matched: number,
    readonly limit: number,
  ) {
    super('TOO_MANY_TARGETS', `${matched} items match, more than the limit ${limit}; nothing was submitted.`);
  }
}

/** What was read of a conditions target before the transaction (see matchConditions). */
export interface Matched {
  /** How many items match, when counted. */
  counted: number | null;
  /** The targets themselves (capped to the limit), when read off the event loop. */
  resolved: string[] | null;
}

const NOTHING_READ: Matched = { counted: null, resolved: null };

/**
 * The caller's conditions decide what matching them costs, so they are matched through ctx.reader (under the
 * request's query time limit) and outside the transaction. Where the reader runs off the event loop (SQLite's
 * threads), it resolves the targets themselves and the transaction only inserts those ids: the predicate never
 * runs on the event loop. Elsewhere it counts them first, bounding the transaction's INSERT … SELECT. With a
 * limit the count is always taken: it is `matched`, and what a `refuse` policy is decided on.
 */
export async function matchConditions(
  ctx: Ctx,
  workspaceId: string,
  input: SubmitInput,
  target: ConditionsTarget,
): Promise<Matched> {
  if (!target.conditions?.length) return NOTHING_READ;
  const ds = await getDatastore(ctx, workspaceId, target.datastore);
  checkTargetAction(ds, input);
  const { from, key } = conditionSource(ctx, workspaceId, input.operation, ds, target, ctx.now());
  const read = <R>(q: RawBuilder<R>) => ctx.reader.read(ctx.db, q.compile(ctx.db), workspaceId);
  let counted: number | null = null;
  if (!ctx.reader.offEventLoop || target.limit !== undefined) {
    counted = Number((await read(sql<{ n: number }>`select count(*) as n ${from}`))[0]!.n);
    checkLimit(target, counted);
  }
  let resolved: string[] | null = null;
  if (ctx.reader.offEventLoop) {
    const ordered = target.limit !== undefined ? capTo(key, target.limit) : sql`order by ${key}`;
    resolved = (await read(sql<{ k: string }>`select ${key} as k ${from} ${ordered}`)).map((r) => r.k);
  }
  return { counted, resolved };
}

/**
 * Writes the batch items of a conditions target, in id order: the ids `matched` read, else set-based (INSERT …
 * SELECT with row_number) so the set never drifts and `total` is known at once.
 */
export async function freezeConditions(
  tx: Ctx,
  workspaceId: string,
  batchId: string,
  input: SubmitInput,
  target: ConditionsTarget,
  matchedBefore: Matched,
  now: number,
): Promise<FrozenTargets> {
  const ds = await getDatastore(tx, workspaceId, target.datastore);
  checkTargetAction(ds, input);
  if (input.operation === 'update') normalizeFieldValues(ds.fieldByKey, input.fields);
  const params = {
    datastore_id: ds.id,
    conditions: target.conditions ?? [],
    use_or_condition: target.use_or_condition === true,
  };
  const { from, key } = conditionSource(tx, workspaceId, input.operation, ds, target, now);
  const limit = target.limit;
  let matched: number | null = null;
  if (limit !== undefined) {
    matched =
      matchedBefore.counted ??
      Number((await sql<{ n: number }>`select count(*) as n ${from}`.execute(tx.db)).rows[0]!.n);
    checkLimit(target, matched);
  }
  let total: number;
  const { resolved } = matchedBefore;
  if (resolved) {
    for (let i = 0; i < resolved.length; i += ROWS_PER_INSERT) {
      const part = resolved
        .slice(i, i + ROWS_PER_INSERT)
        .map((t, j) => ({ batch_id: batchId, seq: i + j + 1, target_id: t, state: 'pending' as const, attempts: 0 }));
      await tx.db.insertInto('batch_item').values(part).execute();
    }
    total = resolved.length;
  } else {
    const res = await sql`insert into batch_item (batch_id, seq, target_id, state, attempts)
      select ${batchId}, row_number() over (order by t.k), t.k, 'pending', 0 from (select ${key} as k ${from} ${capTo(key, limit)}) t`.execute(
      tx.db,
    );
    total = Number(res.numAffectedRows ?? 0n);
  }
  if (target.revisions && total > 0) await expectRevisions(tx, batchId, target.revisions);
  return { total, matched, params };
}

function checkLimit(target: ConditionsTarget, matched: number): void {
  if (target.over_limit === 'refuse' && target.limit !== undefined && matched > target.limit)
    throw new TooManyTargets(matched, target.limit);
}

/** Hexabase's item_revisions on matched items: each listed item that was frozen fails if its rev_no moved on. */
async function expectRevisions(tx: Ctx, batchId: string, revisions: Record<string, number>): Promise<void> {
  const entries = Object.entries(revisions);
  for (let i = 0; i < entries.length; i += REVISIONS_PER_UPDATE) {
    const part = entries.slice(i, i + REVISIONS_PER_UPDATE);
    await tx.db
      .updateTable('batch_item')
      .set({
        expected_rev: sql<number>`case target_id ${sql.join(
          part.map(([t, rev]) => sql`when ${t} then cast(${rev} as integer)`),
          sql` `,
        )} end`,
      })
      .where('batch_id', '=', batchId)
      .where(
        'target_id',
        'in',
        part.map(([t]) => t),
      )
      .execute();
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

function isTicketOperation(op: Operation): boolean {
  return op === 'approve' || op === 'reject' || op === 'withdraw';
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

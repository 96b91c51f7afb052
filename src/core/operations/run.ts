import { withTx, type Ctx } from '../context.ts';
import type { Item } from '../items.ts';
import { commitChanges } from './commit-changes.ts';
import { toTicket } from '../tickets.ts';
import { loadBatchChanges, loadItems, loadTickets } from './load-targets.ts';
import { planRevert } from './plan-revert.ts';
import { planAction, type ActionParams } from './plan-action.ts';
import { planDecision, type Decision } from './plan-decision.ts';
import { planUpdate } from './plan-update.ts';
import { roleAllows } from '../roles.ts';
import { authorOf, failed, type Actor, type Change, type OperationOptions, type Outcome } from './types.ts';

export interface ItemTarget {
  id: string;
  /** Optimistic-concurrency check: fail with REVISION_CONFLICT unless the item is at this rev_no. */
  rev_no?: number;
  /** The datastore the item must be in: one found elsewhere is treated as not found (DataArts biz_type). */
  datastore_id?: string;
}

/** The target's item, unless it lives in another datastore than the target expects. */
function itemFor(items: Map<string, Item>, target: ItemTarget): Item | undefined {
  const item = items.get(target.id);
  return item && target.datastore_id !== undefined && item.datastore_id !== target.datastore_id ? undefined : item;
}

function isChange(x: Change | Outcome): x is Change {
  return 'before' in x;
}

/**
 * Plans every target, then commits the planned changes in one go. A repeated target is skipped; a dry run
 * returns what would happen (the item as it would be) and writes nothing.
 */
async function execute(
  ctx: Ctx,
  actor: Actor,
  targetIds: readonly string[],
  opts: OperationOptions,
  plan: (targetId: string, index: number) => Change | Outcome,
): Promise<Outcome[]> {
  const seen = new Set<string>();
  const planned = targetIds.map((id, i): Change | Outcome => {
    if (seen.has(id))
      return {
        target_id: id,
        state: 'skipped',
        error_code: 'DUPLICATE',
        error_message: 'The target appears earlier in the same request.',
      };
    seen.add(id);
    return plan(id, i);
  });
  const changes = planned.filter(isChange);
  let committed: Map<string, Outcome>;
  if (opts.dryRun) {
    committed = new Map(
      changes.map((c) => {
        // An edit kept as a draft leaves the item as it is.
        const item: Item =
          c.draft || c.keeps_item
            ? c.before
            : {
                ...c.before,
                title: c.title ?? c.before.title,
                status_id: c.status_id,
                fields: c.fields,
                rev_no: c.before.rev_no + 1,
              };
        return [
          c.target_id,
          { target_id: c.target_id, state: 'succeeded', error_code: null, error_message: null, item },
        ];
      }),
    );
  } else {
    const outcomes = await commitChanges(ctx, authorOf(actor), changes, opts.batchId ?? null, opts.notify !== false);
    committed = new Map(outcomes.map((o) => [o.target_id, o]));
  }
  return planned.map((p) => (isChange(p) ? committed.get(p.target_id)! : p));
}

/**
 * The routes check the role before they call in, but a batch runs later, as its submitter stands then: one
 * demoted to viewer since the submit changes nothing more.
 */
function readOnly(actor: Actor, targets: readonly ItemTarget[]): Outcome[] | null {
  if (roleAllows(actor.role, 'write')) return null;
  return targets.map((t) => failed(t.id, 'FORBIDDEN', `The ${actor.role} role may not change items.`));
}

/** Runs an action on items: status moves, field sets, or tickets opened for actions that need approval. */
export async function runAction(
  ctx: Ctx,
  actor: Actor,
  targets: readonly ItemTarget[],
  params: ActionParams,
  opts: OperationOptions = {},
): Promise<Outcome[]> {
  const refused = readOnly(actor, targets);
  if (refused) return refused;
  return withTx(ctx, async (tx) => {
    const ids = targets.map((t) => t.id);
    const { items, datastores, pending, drafts } = await loadItems(tx, actor.workspaceId, ids);
    return execute(tx, actor, ids, opts, (id, i) => {
      const item = itemFor(items, targets[i]!);
      return planAction(
        actor,
        params,
        id,
        item,
        item && datastores.get(item.datastore_id),
        pending.get(id),
        targets[i]!.rev_no,
        opts.comment ?? null,
        () => tx.ids.next(),
        item && drafts.get(item.id),
      );
    });
  });
}

/** Approves, rejects or withdraws tickets, moving their items as the workflow says. */
export function decideTickets(
  ctx: Ctx,
  actor: Actor,
  ticketIds: readonly string[],
  decision: Decision,
  opts: OperationOptions = {},
): Promise<Outcome[]> {
  return withTx(ctx, async (tx) => {
    const { tickets, items, datastores, drafts } = await loadTickets(tx, actor.workspaceId, ticketIds);
    return execute(tx, actor, ticketIds, opts, (id) => {
      const ticket = tickets.get(id);
      const item = ticket && items.get(ticket.item_id);
      return planDecision(
        actor,
        decision,
        id,
        ticket,
        item,
        item && datastores.get(item.datastore_id),
        opts.comment ?? null,
        opts.inBatch === true,
        item && drafts.get(item.id),
      );
    });
  });
}

/** Sets field values on items. */
export async function updateItems(
  ctx: Ctx,
  actor: Actor,
  targets: readonly ItemTarget[],
  fields: Record<string, unknown>,
  opts: OperationOptions = {},
): Promise<Outcome[]> {
  const refused = readOnly(actor, targets);
  if (refused) return refused;
  return withTx(ctx, async (tx) => {
    const ids = targets.map((t) => t.id);
    const { items, datastores, pending, drafts } = await loadItems(tx, actor.workspaceId, ids);
    return execute(tx, actor, ids, opts, (id, i) => {
      const item = itemFor(items, targets[i]!);
      return planUpdate(
        id,
        item,
        item && datastores.get(item.datastore_id),
        pending.get(id),
        fields,
        targets[i]!.rev_no,
        opts.comment ?? null,
        item && drafts.get(item.id),
      );
    });
  });
}

/**
 * Undoes what batch `revertsBatchId` changed on these items (plan-revert.ts), reading the batch's history entries
 * of the items in one query (index item_history (batch_id, item_id)) and the tickets they name in another.
 */
export async function revertItems(
  ctx: Ctx,
  actor: Actor,
  targets: readonly ItemTarget[],
  revertsBatchId: string,
  opts: OperationOptions = {},
): Promise<Outcome[]> {
  const refused = readOnly(actor, targets);
  if (refused) return refused;
  return withTx(ctx, async (tx) => {
    const ids = targets.map((t) => t.id);
    const { items, datastores, pending, drafts } = await loadItems(tx, actor.workspaceId, ids);
    const sources = await loadBatchChanges(tx, actor.workspaceId, revertsBatchId, ids);
    const ticketIds = [...new Set([...sources.values()].flat().flatMap((h) => (h.ticket_id ? [h.ticket_id] : [])))];
    const tickets = new Map(
      (await tx.bulk.selectTickets(tx.db, actor.workspaceId, ticketIds)).map((r) => [r.id, toTicket(tx, r)]),
    );
    return execute(tx, actor, ids, opts, (id) => {
      const item = items.get(id);
      return planRevert(
        actor,
        id,
        item,
        item && datastores.get(item.datastore_id),
        sources.get(id),
        pending.get(id),
        item && drafts.get(item.id),
        tickets,
        revertsBatchId,
        opts.comment ?? null,
      );
    });
  });
}

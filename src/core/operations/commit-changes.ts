import type { TicketState } from '../states.ts';
import type { Ctx } from '../context.ts';
import { getDatastoresById } from '../datastores.ts';
import { indexDelta } from '../index-rows.ts';
import { draftRow } from '../drafts.ts';
import { historyRows } from '../history.ts';
import { undoOf, withdrawnBy } from '../undo.ts';
import type { TicketDecision } from '../undo-record.ts';
import type { Item } from '../items.ts';
import { ticketRow } from '../tickets.ts';
import { emitTicketEvents, type TicketEvent } from '../webhooks/ticket-events.ts';
import { failed, type Author, type Change, type Outcome } from './types.ts';

/**
 * Applies planned changes in one pass of set-based statements (src/db/bulk-writer.ts): the guarded item update
 * (the guard is the rev_no read at plan time, so a change that raced us is reported, not overwritten), then the
 * tickets, then every history entry, then the ticket events for webhooks (unless the batch's `notify` is off). Must
 * run inside the transaction that planned the changes. `author` is who really made the changes, and in whose name
 * (the batch approval open API's user_id): decisions and history entries record both.
 */
export async function commitChanges(
  ctx: Ctx,
  author: Author,
  changes: Change[],
  batchId: string | null,
  notify = true,
): Promise<Outcome[]> {
  if (changes.length === 0) return [];
  const { userId, onBehalfOf } = author;
  const now = ctx.now();
  // An edit kept as a draft does not write the item (its row is locked since it was read, see loadItems), nor does
  // a revert that only puts a draft back.
  const keepsItem = (c: Change) => c.draft !== undefined || c.keeps_item === true;
  const writes = changes.filter((c) => !keepsItem(c));
  const datastores = await getDatastoresById(ctx, [
    ...new Set(writes.filter((c) => c.fields !== c.before.fields).map((c) => c.before.datastore_id)),
  ]);
  const updated = await ctx.bulk.updateItems(
    ctx.db,
    writes.map((c) => {
      // Unchanged fields are not rewritten, and then neither are their typed index rows (src/db/item-index.ts).
      if (c.fields === c.before.fields)
        return { id: c.before.id, rev: c.before.rev_no, status_id: c.status_id, fields: null };
      const index = indexDelta(datastores.get(c.before.datastore_id)!, c.before.id, c.before.fields, c.fields);
      return {
        id: c.before.id,
        rev: c.before.rev_no,
        status_id: c.status_id,
        fields: ctx.caps.writeJson(c.fields),
        index,
      };
    }),
    now,
    userId,
  );

  const done = changes.filter((c) => keepsItem(c) || updated.has(c.before.id));
  const opened = done.flatMap((c) =>
    c.open_ticket ? [ticketRow(ctx, { ...c.open_ticket, created_at: now, updated_at: now })] : [],
  );
  for (let i = 0; i < opened.length; i += 500)
    await ctx.db
      .insertInto('ticket')
      .values(opened.slice(i, i + 500))
      .execute();

  // Decisions of one call share state and comment; group anyway so a mixed call stays correct.
  const decisions = new Map<string, string[]>();
  for (const c of done) {
    if (!c.decide_ticket) continue;
    const key = JSON.stringify([c.decide_ticket.state, c.decide_ticket.comment]);
    decisions.set(key, [...(decisions.get(key) ?? []), c.decide_ticket.ticket.id]);
  }
  for (const [key, ids] of decisions) {
    const [state, comment] = JSON.parse(key) as [TicketState, string | null];
    for (let i = 0; i < ids.length; i += 1000) {
      const part = ids.slice(i, i + 1000);
      const res = await ctx.db
        .updateTable('ticket')
        .set({
          state,
          decision_comment: comment,
          decided_by: userId,
          on_behalf_of: onBehalfOf,
          decided_at: now,
          updated_at: now,
        })
        .where('id', 'in', part)
        .where('state', '=', 'pending')
        .executeTakeFirst();
      // The item's rev guard already serialised us against any other decision of these tickets.
      if (Number(res.numUpdatedRows) !== part.length)
        throw new Error('ticket decision lost its pending state under a rev_no guard');
    }
  }

  await restoreTickets(ctx, userId, done, now);
  await commitDrafts(ctx, userId, done, now, batchId);

  await ctx.bulk.insertHistory(
    ctx.db,
    historyRows(
      ctx,
      done.map((c) => ({
        workspace_id: c.before.workspace_id,
        item_id: c.before.id,
        kind: c.history.kind,
        user_id: userId,
        action_id: c.history.action_id ?? null,
        from_status_id: c.before.status_id,
        to_status_id: c.status_id,
        comment: c.history.comment ?? null,
        batch_id: batchId,
        ticket_id: c.open_ticket?.id ?? c.decide_ticket?.ticket.id ?? c.restore_ticket?.ticket.id ?? null,
        changes: c.history.changes ?? null,
        created_at: now,
        rev_no: keepsItem(c) ? c.before.rev_no : c.before.rev_no + 1,
        undo: undoOf(c, author, now),
        reverts_batch_id: c.history.reverts_batch_id ?? null,
        on_behalf_of: onBehalfOf,
      })),
    ),
  );

  const outcomes = changes.map((c): Outcome => {
    if (c.draft) {
      const draft = {
        item_id: c.before.id,
        title: c.draft.title,
        fields: c.draft.fields,
        created_by: c.draft.created_by ?? userId,
        created_at: c.draft.created_at ?? now,
        updated_by: userId,
        updated_at: now,
      };
      return {
        target_id: c.target_id,
        state: 'succeeded',
        error_code: null,
        error_message: null,
        item: c.before,
        draft,
      };
    }
    if (c.keeps_item)
      return { target_id: c.target_id, state: 'succeeded', error_code: null, error_message: null, item: c.before };
    if (!updated.has(c.before.id)) {
      return failed(c.target_id, 'REVISION_CONFLICT', 'The item was changed by someone else while this ran.');
    }
    const item: Item = {
      ...c.before,
      title: c.title ?? c.before.title,
      status_id: c.status_id,
      fields: c.fields,
      rev_no: c.before.rev_no + 1,
      updated_at: now,
      updated_by: userId,
    };
    const ticket = c.open_ticket
      ? { ...c.open_ticket, created_at: now, updated_at: now }
      : c.decide_ticket
        ? {
            ...c.decide_ticket.ticket,
            state: c.decide_ticket.state,
            decision_comment: c.decide_ticket.comment,
            decided_by: userId,
            on_behalf_of: onBehalfOf,
            decided_at: now,
            updated_at: now,
          }
        : undefined;
    return {
      target_id: c.target_id,
      state: 'succeeded',
      error_code: null,
      error_message: null,
      item,
      ...(ticket ? { ticket } : {}),
    };
  });

  if (notify) {
    const events = outcomes.flatMap((o, i): TicketEvent[] =>
      o.ticket && o.item
        ? [{ type: changes[i]!.open_ticket ? 'ticket.assigned' : 'ticket.decided', ticket: o.ticket, item: o.item }]
        : [],
    );
    if (events.length) await emitTicketEvents(ctx, batchId, events);
  }
  return outcomes;
}

/**
 * A revert's ticket side: each ticket goes back to its earlier decision (a reopened ticket is pending again) or,
 * when the reverted change had opened it, is withdrawn. Grouped by the decision it gets, so reopening a batch's
 * tickets is one statement per 1000; only a revert of a revert restores per-ticket decision times. Each update is
 * conditional on the state the planner saw; the item's lock (loadItems) keeps it so until commit.
 */
async function restoreTickets(ctx: Ctx, userId: string, done: Change[], now: number): Promise<void> {
  const groups = new Map<string, { to: TicketDecision; ids: string[] }>();
  for (const c of done) {
    const r = c.restore_ticket;
    if (!r) continue;
    const to = r.to === 'withdraw' ? withdrawnBy(userId, c.history.comment ?? null, now) : r.to;
    const key = JSON.stringify([r.expect, to]);
    const g = groups.get(key) ?? { to, ids: [] };
    g.ids.push(r.ticket.id);
    groups.set(key, g);
  }
  for (const [key, { to, ids }] of groups) {
    const expect = (JSON.parse(key) as [TicketState])[0];
    for (let i = 0; i < ids.length; i += 1000) {
      const part = ids.slice(i, i + 1000);
      const res = await ctx.db
        .updateTable('ticket')
        .set({
          state: to.state,
          decision_comment: to.decision_comment,
          decided_by: to.decided_by,
          on_behalf_of: to.on_behalf_of ?? null,
          decided_at: to.decided_at,
          updated_at: now,
        })
        .where('id', 'in', part)
        .where('state', '=', expect)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) !== part.length)
        throw new Error('a reverted ticket left the state its revert was planned from');
    }
  }
}

/**
 * The draft side of committed changes (src/core/drafts.ts): edits kept as drafts are upserted (merged values were
 * planned under the item's lock), applied drafts are deleted (with the title they set), and every change entering
 * a released status records a version snapshot. Nothing at all for datastores without released statuses.
 */
async function commitDrafts(
  ctx: Ctx,
  userId: string,
  done: Change[],
  now: number,
  batchId: string | null,
): Promise<void> {
  const kept = done.filter((c) => c.draft);
  for (let i = 0; i < kept.length; i += 500) {
    const rows = kept
      .slice(i, i + 500)
      .map((c) =>
        draftRow(ctx, c.before.id, c.draft!, c.draft!.created_by ?? userId, c.draft!.created_at ?? now, userId, now),
      );
    await ctx.db
      .insertInto('item_draft')
      .values(rows)
      .onConflict((oc) =>
        oc.column('item_id').doUpdateSet((eb) => ({
          title: eb.ref('excluded.title'),
          fields: eb.ref('excluded.fields'),
          updated_by: eb.ref('excluded.updated_by'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .execute();
  }

  // A revert puts the draft back as it was: upserted like a kept edit, or deleted when there was none.
  const restored = done.filter((c) => c.restore_draft?.to);
  for (let i = 0; i < restored.length; i += 500) {
    const rows = restored.slice(i, i + 500).map((c) => {
      const d = c.restore_draft!.to!;
      return draftRow(ctx, c.before.id, d, d.created_by, d.created_at, userId, now);
    });
    await ctx.db
      .insertInto('item_draft')
      .values(rows)
      .onConflict((oc) =>
        oc.column('item_id').doUpdateSet((eb) => ({
          title: eb.ref('excluded.title'),
          fields: eb.ref('excluded.fields'),
          created_by: eb.ref('excluded.created_by'),
          created_at: eb.ref('excluded.created_at'),
          updated_by: eb.ref('excluded.updated_by'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .execute();
  }
  const applied = done
    .filter((c) => c.applies_draft || (c.restore_draft && !c.restore_draft.to))
    .map((c) => c.before.id);
  for (let i = 0; i < applied.length; i += 1000) {
    await ctx.db
      .deleteFrom('item_draft')
      .where('item_id', 'in', applied.slice(i, i + 1000))
      .execute();
  }
  // Only a draft sets a title, and drafts get titles from no door yet: row by row is fine.
  for (const c of done) {
    if (c.title !== undefined && c.title !== c.before.title)
      await ctx.db.updateTable('item').set({ title: c.title }).where('id', '=', c.before.id).execute();
  }

  const released = done.filter((c) => c.release);
  if (released.length) {
    const ids = ctx.ids.many(released.length);
    await ctx.bulk.insertVersions(
      ctx.db,
      released.map((c, i) => ({
        id: ids[i]!,
        item_id: c.before.id,
        title: c.title ?? c.before.title,
        fields: ctx.caps.writeJson(c.fields),
        status_id: c.status_id,
        created_at: now,
        created_by: userId,
        batch_id: batchId,
      })),
    );
  }
}

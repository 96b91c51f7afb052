import { sameValue, type Draft } from './drafts.ts';
import type { Author, Change } from './operations/types.ts';
import type { Ticket } from './tickets.ts';
import type { DraftState, TicketDecision, Undo } from './undo-record.ts';

export function decisionOf(t: Ticket): TicketDecision {
  return {
    state: t.state,
    decision_comment: t.decision_comment,
    decided_by: t.decided_by,
    on_behalf_of: t.on_behalf_of,
    decided_at: t.decided_at,
  };
}

export function draftStateOf(d: Draft | DraftState | null | undefined): DraftState | null {
  return d ? { title: d.title, fields: d.fields, created_by: d.created_by, created_at: d.created_at } : null;
}

/** Whether two drafts hold the same edit (who and when aside). */
export function sameDraft(a: DraftState | null, b: DraftState | null): boolean {
  if (!a || !b) return a === b;
  return a.title === b.title && sameValue(a.fields, b.fields);
}

/** What the ticket's decision becomes when a revert withdraws a ticket the reverted change had opened. */
export function withdrawnBy(userId: string, comment: string | null, now: number): TicketDecision {
  return { state: 'withdrawn', decision_comment: comment, decided_by: userId, decided_at: now };
}

/** The undo record of a committed change; `now` and `author` are the commit's. */
export function undoOf(c: Change, author: Author, now: number): Undo | null {
  const { userId, onBehalfOf } = author;
  const u: Undo = {};
  if (!c.draft && !c.keeps_item && c.fields !== c.before.fields) {
    const before = c.before.fields;
    const fields: Record<string, unknown> = Object.create(null);
    const unset: string[] = [];
    for (const [k, v] of Object.entries(c.fields)) {
      if (!(k in before)) unset.push(k);
      else if (before[k] !== v && !sameValue(before[k], v)) fields[k] = before[k];
    }
    for (const k of Object.keys(before)) if (!(k in c.fields)) fields[k] = before[k];
    if (Object.keys(fields).length) u.fields = fields;
    if (unset.length) u.unset = unset;
  }
  if (c.title !== undefined && c.title !== c.before.title) u.title = c.before.title;
  if (c.draft_before !== undefined) {
    const after = c.draft
      ? {
          title: c.draft.title,
          fields: c.draft.fields,
          created_by: c.draft.created_by ?? userId,
          created_at: c.draft.created_at ?? now,
        }
      : c.restore_draft
        ? c.restore_draft.to
        : null;
    u.draft = { before: draftStateOf(c.draft_before), after };
  }
  if (c.open_ticket)
    u.ticket = {
      before: null,
      after: { state: 'pending', decision_comment: null, decided_by: null, decided_at: null },
    };
  if (c.decide_ticket) {
    u.ticket = {
      before: decisionOf(c.decide_ticket.ticket),
      after: {
        state: c.decide_ticket.state,
        decision_comment: c.decide_ticket.comment,
        decided_by: userId,
        on_behalf_of: onBehalfOf,
        decided_at: now,
      },
    };
  }
  if (c.restore_ticket) {
    const to = c.restore_ticket.to;
    u.ticket = {
      before: decisionOf(c.restore_ticket.ticket),
      after: to === 'withdraw' ? withdrawnBy(userId, c.history.comment ?? null, now) : to,
    };
  }
  return Object.keys(u).length ? u : null;
}

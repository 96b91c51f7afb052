import type { Ticket } from './tickets.ts';

// The undo record types apart from the functions in undo.ts, which need drafts and operation types: history.ts
// and operations/types.ts use these, and importing undo.ts from them closed a loop back to drafts.ts.

/** A ticket's decision columns: what a revert puts back. */
export interface TicketDecision {
  state: Ticket['state'];
  decision_comment: string | null;
  decided_by: string | null;
  /** Absent on undo records written before 0011: none. */
  on_behalf_of?: string | null;
  decided_at: number | null;
}

/** An item's draft as a revert compares and restores it. */
export interface DraftState {
  title: string | null;
  fields: Record<string, unknown>;
  created_by: string | null;
  created_at: number;
}

/**
 * What a change replaced, recorded on its history entry (`item_history.undo`) in the same set-based insert, so a
 * revert batch can put it back (src/core/operations/plan-revert.ts). With `from_status_id` and `rev_no` (the
 * item's rev_no after the change) on the entry, it is everything a revert needs. Null when the change only
 * moved the status, the common case: an action on 100k items writes no undo at all.
 */
export interface Undo {
  /** Earlier values of the fields the change set or cleared. */
  fields?: Record<string, unknown>;
  /** Fields the change added (the item had no value for them). */
  unset?: string[];
  /** The earlier title, when the change set another. */
  title?: string;
  /** The item's draft before and after the change, when the change wrote, applied or restored it. */
  draft?: { before: DraftState | null; after: DraftState | null };
  /** The ticket's decision before (null: the change opened it) and after. */
  ticket?: { before: TicketDecision | null; after: TicketDecision };
}

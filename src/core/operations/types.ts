import type { ItemState } from '../states.ts';
import type { ErrorCode } from '../../errors.ts';
import type { Actor } from '../auth.ts';
import type { Draft } from '../drafts.ts';
import type { HistoryKind } from '../history.ts';
import type { Item } from '../items.ts';
import type { Ticket } from '../tickets.ts';
import type { DraftState, TicketDecision } from '../undo-record.ts';

/**
 * Every operation on items (run an action, decide tickets, update fields) works on a set of targets in one
 * transaction: load them in one query, plan each in memory, commit the planned changes set-based. A single-item
 * route and a batch chunk go through the same functions; a route is a chunk of one. It acts as an Actor (an API
 * request's Access is one).
 */
export type { Actor };

/** Who a change is recorded as made by, and in whose name when that is someone else. */
export interface Author {
  userId: string;
  onBehalfOf: string | null;
}

export function authorOf(actor: Actor): Author {
  return actor.by && actor.by.userId !== actor.principal.userId
    ? { userId: actor.by.userId, onBehalfOf: actor.principal.userId }
    : { userId: actor.principal.userId, onBehalfOf: null };
}

/** What running a target ends in: every item state but `pending`. */
export type OutcomeState = Exclude<ItemState, 'pending'>;

export interface Outcome {
  /** The item id, or the ticket id for decisions. */
  target_id: string;
  state: OutcomeState;
  error_code: ErrorCode | null;
  error_message: string | null;
  item?: Item;
  ticket?: Ticket;
  /** The item's draft, when the change was kept as one (the item itself is unchanged). */
  draft?: Draft;
}

/** A planned change to one item, with what goes with it. */
export interface Change {
  target_id: string;
  before: Item;
  status_id: string;
  fields: Record<string, unknown>;
  history: {
    kind: HistoryKind;
    action_id?: string | null;
    comment?: string | null;
    changes?: Record<string, unknown> | null;
    /** A revert's entry names the batch whose change it undid. */
    reverts_batch_id?: string | null;
  };
  /** A ticket to open (an action that needs approval). */
  open_ticket?: Ticket;
  /** A pending ticket this change decides. */
  decide_ticket?: { ticket: Ticket; state: Ticket['state']; comment: string | null };
  /**
   * The edit of an item in a released status, kept as its draft (merged with the one it had) instead of changing
   * the item: nothing else of the change is written but the history entry (src/core/drafts.ts).
   */
  draft?: {
    title: string | null;
    fields: Record<string, unknown>;
    created_by: string | null;
    created_at: number | null;
  };
  /** The item's draft is applied by this change: `fields` (and `title`) include it, and it is deleted. */
  applies_draft?: boolean;
  /** The new title, when the change sets one (an applied draft's). */
  title?: string;
  /** The change enters a released status: a version snapshot of the item as it becomes is recorded. */
  release?: boolean;
  /** The item's draft before the change, when the change keeps, applies or restores one: recorded for undo. */
  draft_before?: Draft | null;
  /** A revert that leaves the item row as it is: only the item's draft or ticket goes back (or nothing). */
  keeps_item?: boolean;
  /** A revert: the item's draft goes back to this (null: none). */
  restore_draft?: { to: DraftState | null };
  /**
   * A revert: the ticket's decision goes back to `to` (`withdraw`: the change had opened it, so it is withdrawn
   * now, by the reverting user), provided it is still in the state the reverted change left it (`expect`).
   */
  restore_ticket?: { ticket: Ticket; expect: Ticket['state']; to: TicketDecision | 'withdraw' };
}

export interface OperationOptions {
  comment?: string | null;
  batchId?: string | null;
  dryRun?: boolean;
  /** Decisions in a batch refuse tickets that are not batch-approvable. */
  inBatch?: boolean;
  /** False (a batch submitted with `notify: false`): the tickets it opens and decides send no webhook events. */
  notify?: boolean;
}

export function failed(target_id: string, code: ErrorCode, message: string): Outcome {
  return { target_id, state: 'failed', error_code: code, error_message: message };
}

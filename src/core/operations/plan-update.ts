import { isAppError } from '../../errors.ts';
import { isReleased, type Datastore } from '../datastore-model.ts';
import type { Draft } from '../drafts.ts';
import { normalizeFieldValues } from '../field-values.ts';
import type { Item } from '../items.ts';
import type { Ticket } from '../tickets.ts';
import { failed, type Change, type Outcome } from './types.ts';

/**
 * Plans setting fields on one item. An item under approval is not edited: the approver decides what they saw. An
 * item in a released status is not edited either: the values go to its draft (src/core/drafts.ts).
 */
export function planUpdate(
  targetId: string,
  item: Item | undefined,
  ds: Datastore | undefined,
  pending: Ticket | undefined,
  fieldsIn: Record<string, unknown>,
  expectRev: number | undefined,
  comment: string | null,
  draft?: Draft,
): Change | Outcome {
  if (!item || !ds) return failed(targetId, 'ITEM_NOT_FOUND', 'The item does not exist in this workspace.');
  if (expectRev !== undefined && expectRev !== item.rev_no) {
    return failed(targetId, 'REVISION_CONFLICT', `The item is at rev_no ${item.rev_no}, not ${expectRev}.`);
  }
  if (pending) return failed(targetId, 'ITEM_PENDING_APPROVAL', `The item has pending ticket ${pending.id}.`);
  let input: Record<string, unknown>;
  try {
    input = normalizeFieldValues(ds.fieldByKey, fieldsIn);
  } catch (e) {
    if (isAppError(e)) return failed(targetId, e.code, e.message);
    throw e;
  }
  if (isReleased(ds, item.status_id)) {
    return {
      target_id: targetId,
      before: item,
      status_id: item.status_id,
      fields: item.fields,
      history: { kind: 'draft', comment, changes: input },
      draft: {
        title: draft?.title ?? null,
        fields: { ...(draft?.fields ?? {}), ...input },
        created_by: draft?.created_by ?? null,
        created_at: draft?.created_at ?? null,
      },
      draft_before: draft ?? null,
    };
  }
  return {
    target_id: targetId,
    before: item,
    status_id: item.status_id,
    fields: { ...item.fields, ...input },
    history: { kind: 'update', comment, changes: input },
  };
}

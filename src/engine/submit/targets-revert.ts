import { sql } from 'kysely';
import type { Ctx } from '../../core/context.ts';
import { fail } from '../../errors.ts';
import { REVERTIBLE } from '../../core/states.ts';
import type { FrozenTargets, RevertTarget } from './input.ts';

/**
 * A revert's targets, frozen like any other: the items the reverted batch changed (its history entries; each
 * item once), in id order. Checked in the submit's transaction, so a retry that just requeued the batch is seen.
 */
export async function freezeRevert(
  tx: Ctx,
  workspaceId: string,
  batchId: string,
  target: RevertTarget,
): Promise<FrozenTargets> {
  const revertOf = target.revert_of;
  const reverted = await tx.db
    .selectFrom('batch')
    .select(['state', 'dry_run'])
    .where('id', '=', revertOf)
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirst();
  if (!reverted) fail('BATCH_NOT_FOUND');
  if (!REVERTIBLE.includes(reverted.state)) {
    fail('BATCH_STATE', `The batch is ${reverted.state}; only a ${REVERTIBLE.join(', ')} batch can be reverted.`);
  }
  if (reverted.dry_run) fail('NOT_REVERTIBLE', 'The batch was a dry run: it changed nothing to revert.');
  const res = await sql`insert into batch_item (batch_id, seq, target_id, state, attempts)
    select ${batchId}, row_number() over (order by t.item_id), t.item_id, 'pending', 0
    from (select distinct h.item_id from item_history h where h.batch_id = ${revertOf} and h.workspace_id = ${workspaceId}) t`.execute(
    tx.db,
  );
  return { total: Number(res.numAffectedRows ?? 0n), matched: null, params: { reverts_batch_id: revertOf } };
}

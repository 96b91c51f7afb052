import type { Ctx } from '../../core/context.ts';

/** Rows per INSERT of chunks. */
const CHUNKS_PER_INSERT = 500;

/** Cuts a batch's `total` items into ready chunks of `chunkSize` consecutive seqs, the unit a worker leases. */
export async function insertChunks(
  tx: Ctx,
  batchId: string,
  workspaceId: string,
  total: number,
  chunkSize: number,
): Promise<void> {
  const chunks = [];
  for (let from = 1; from <= total; from += chunkSize) {
    chunks.push({
      id: tx.ids.next(),
      batch_id: batchId,
      workspace_id: workspaceId,
      seq_from: from,
      seq_to: Math.min(total, from + chunkSize - 1),
      state: 'ready' as const,
      lease_owner: null,
      lease_until: null,
      attempts: 0,
      slot: null,
    });
  }
  for (let i = 0; i < chunks.length; i += CHUNKS_PER_INSERT)
    await tx.db
      .insertInto('work_chunk')
      .values(chunks.slice(i, i + CHUNKS_PER_INSERT))
      .execute();
}

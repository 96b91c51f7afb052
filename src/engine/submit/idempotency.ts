import { createHash } from 'node:crypto';
import { canonical } from '../../core/canonical.ts';
import type { Ctx } from '../../core/context.ts';
import { fail } from '../../errors.ts';
import { findBatch, type Batch } from '../batches.ts';
import type { SubmitInput } from './input.ts';

/** What an Idempotency-Key is bound to: the input (or the request it came from), without the key and the door. */
export function requestHash(input: SubmitInput): string {
  const { idempotency_key: _k, source: _s, request, ...rest } = input;
  return createHash('sha256')
    .update(canonical(request === undefined ? rest : { operation: input.operation, request }))
    .digest('hex');
}

/** The batch the workspace's `key` made, or null. */
export async function findByKey(ctx: Ctx, workspaceId: string, key: string): Promise<Batch | null> {
  const row = await ctx.db
    .selectFrom('batch')
    .select('id')
    .where('workspace_id', '=', workspaceId)
    .where('idempotency_key', '=', key)
    .executeTakeFirst();
  return row ? findBatch(ctx, row.id) : null;
}

/** The existing batch as the answer to a repeated request; IDEMPOTENCY_KEY_REUSED when the request differs. */
export function replay(existing: Batch, hash: string): { batch: Batch; created: boolean } {
  if (existing.request_hash !== hash) fail('IDEMPOTENCY_KEY_REUSED');
  return { batch: existing, created: false };
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

/** The answer when `key` already made a batch in the workspace (a replay, or IDEMPOTENCY_KEY_REUSED), else null. */
export async function knownReplay(
  ctx: Ctx,
  workspaceId: string,
  key: string | null | undefined,
  hash: string,
): Promise<{ batch: Batch; created: boolean } | null> {
  if (!key) return null;
  const existing = await findByKey(ctx, workspaceId, key);
  return existing && replay(existing, hash);
}

/**
 * A submit with a key failed writing: when two submits with one key raced (PostgreSQL, concurrent requests), the
 * unique index let the other through, and this one answers as a replay of it. Otherwise `error` is rethrown.
 */
export async function replayAfterRace(
  ctx: Ctx,
  workspaceId: string,
  key: string,
  hash: string,
  error: unknown,
): Promise<{ batch: Batch; created: boolean }> {
  const answer = await knownReplay(ctx, workspaceId, key, hash);
  if (answer) return answer;
  throw error;
}

/**
 * After a mixed phase: every batch the bench submitted must reach a terminal state, and succeed (each updates 10
 * existing items, so any other ending is a bug). Read through the list route, 500 per page, not one GET per batch.
 */
import type { BatchgateClient } from '../../src/client/index.ts';
import { ok } from '../../src/cli/request.ts';

export interface DrainResult {
  submitted: number;
  succeeded: number;
  /** Seconds from the end of the phase until no batch was queued or running. */
  drainSeconds: number;
  errors: number;
  errorDetail: string[];
}

export async function runnableCount(bg: BatchgateClient, ws: string): Promise<number> {
  let n = 0;
  for (const state of ['queued', 'running']) {
    n += (
      await ok(bg.GET('/api/v1/workspaces/{ws}/batches', { params: { path: { ws }, query: { state, limit: 500 } } }))
    ).batches.length;
  }
  return n;
}

export async function drainBatches(
  bg: BatchgateClient,
  ws: string,
  submitted: ReadonlySet<string>,
  timeoutMs: number,
): Promise<DrainResult> {
  const t0 = Date.now();
  const errorDetail: string[] = [];
  let left = await runnableCount(bg, ws);
  while (left > 0 && Date.now() - t0 < timeoutMs) {
    await new Promise((r) => setTimeout(r, 200));
    left = await runnableCount(bg, ws);
  }
  const drainSeconds = (Date.now() - t0) / 1000;
  if (left > 0)
    errorDetail.push(
      `${left}${left >= 500 ? '+' : ''} batches still queued or running ${Math.round(timeoutMs / 1000)} s after the phase`,
    );

  const states = new Map<string, number>();
  let seen = 0;
  let before: string | undefined;
  // Newest first: stop once every submitted batch has been seen (ids are time-ordered, the seed's are older).
  while (seen < submitted.size) {
    const { batches } = await ok(
      bg.GET('/api/v1/workspaces/{ws}/batches', {
        params: { path: { ws }, query: { limit: 500, ...(before ? { before } : {}) } },
      }),
    );
    if (!batches.length) break;
    for (const b of batches) {
      if (!submitted.has(b.id)) continue;
      seen++;
      states.set(b.state, (states.get(b.state) ?? 0) + 1);
    }
    before = batches.at(-1)!.id;
  }
  if (seen < submitted.size) errorDetail.push(`${submitted.size - seen} submitted batches are missing from the list`);
  const succeeded = states.get('succeeded') ?? 0;
  const other = [...states].filter(([s]) => s !== 'succeeded');
  if (other.length) errorDetail.push(`batches not succeeded: ${other.map(([s, n]) => `${s}×${n}`).join(' ')}`);
  return { submitted: submitted.size, succeeded, drainSeconds, errors: submitted.size - succeeded, errorDetail };
}

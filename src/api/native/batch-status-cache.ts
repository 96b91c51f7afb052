import type { Notifier } from '../../engine/notifier.ts';

/**
 * How old an answer of GET batch status may be when its batch changed in another process
 * (BATCHGATE_STATUS_CACHE_MS). Changes made in this one (a slice run here, a control through this service) drop
 * the entry at once through the notifier.
 *
 * Why a cache at all: a running batch is polled by many clients at once (the web UI, `batchgate batch watch`,
 * scripts), and the read, its conversion and serialising 32 fields were most of that route's cost. Measured with
 * `npm run bench:load` (README "Performance"). 100 ms is below any poller's interval worth having, and with 16–64
 * pollers of one batch it still answers almost all of them from memory.
 */
export const DEFAULT_STATUS_CACHE_MS = 100;
const MAX_ENTRIES = 10_000;

interface Entry {
  workspaceId: string;
  json: string;
  expires: number;
}

/**
 * Serialised status answers by batch id. An entry is only answered to a caller of its own workspace (the route
 * checks access first and passes the workspace), so another tenant's id still falls through to BATCH_NOT_FOUND.
 * A load that started before a change was signalled is answered but not kept: it may hold the old row.
 */
export class BatchStatusCache {
  readonly #entries = new Map<string, Entry>();
  #generation = 0;
  readonly #off: () => void;

  constructor(
    notifier: Notifier,
    readonly ttlMs: number,
  ) {
    this.#off = notifier.onProgress((batchId) => {
      this.#entries.delete(batchId);
      this.#generation++;
    });
  }

  async json(workspaceId: string, batchId: string, load: () => Promise<string>): Promise<string> {
    const now = Date.now();
    if (this.ttlMs <= 0) return load();
    const hit = this.#entries.get(batchId);
    if (hit && hit.expires > now && hit.workspaceId === workspaceId) return hit.json;
    const generation = this.#generation;
    const json = await load();
    if (generation === this.#generation) {
      this.#entries.delete(batchId);
      if (this.#entries.size >= MAX_ENTRIES) this.#entries.delete(this.#entries.keys().next().value!);
      this.#entries.set(batchId, { workspaceId, json, expires: now + this.ttlMs });
    }
    return json;
  }

  close(): void {
    this.#off();
    this.#entries.clear();
  }
}

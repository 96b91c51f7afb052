import { ExpiringCache } from '../../core/expiring-cache.ts';
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

/**
 * Serialised status answers by batch id, dropped when the notifier says the batch changed. An entry is only
 * answered to a caller of its own workspace (the route checks access first and passes the workspace), so another
 * tenant's id still falls through to BATCH_NOT_FOUND.
 */
export class BatchStatusCache {
  readonly #cache: ExpiringCache<{ workspaceId: string; json: string }>;
  readonly #off: () => void;

  constructor(notifier: Notifier, ttlMs: number) {
    this.#cache = new ExpiringCache(ttlMs, MAX_ENTRIES);
    this.#off = notifier.onProgress((batchId) => this.#cache.forget(batchId));
  }

  async json(workspaceId: string, batchId: string, load: () => Promise<string>): Promise<string> {
    if (this.#cache.ttlMs <= 0) return load();
    const hit = await this.#cache.get(batchId, async () => ({ workspaceId, json: await load() }));
    return hit!.workspaceId === workspaceId ? hit!.json : load();
  }

  close(): void {
    this.#off();
    this.#cache.clear();
  }
}

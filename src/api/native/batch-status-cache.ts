import { then, type MaybePromise } from '../../core/maybe-promise.ts';
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
  readonly #cache: ExpiringCache<{ workspaceId: string; body: Buffer }>;
  readonly #off: () => void;

  constructor(notifier: Notifier, ttlMs: number) {
    this.#cache = new ExpiringCache(ttlMs, MAX_ENTRIES);
    this.#off = notifier.onProgress((batchId) => this.#cache.forget(batchId));
  }

  /**
   * The answer's bytes: at once when they are cached (a poller's usual case), else the promise of loading them.
   * Bytes, not a string: a string is measured again for content-length and encoded again by every write (5 µs
   * of the 87 a request cost in an A/B run of bench/load's status client).
   */
  body(workspaceId: string, batchId: string, load: () => Promise<Buffer>): MaybePromise<Buffer> {
    if (this.#cache.ttlMs <= 0) return load();
    const hit = this.#cache.peek(batchId);
    if (hit !== undefined) return hit.workspaceId === workspaceId ? hit.body : load();
    return then(
      this.#cache.get(batchId, async () => ({ workspaceId, body: await load() })),
      (h) => (h!.workspaceId === workspaceId ? h!.body : load()),
    );
  }

  close(): void {
    this.#off();
    this.#cache.clear();
  }
}

import { ExpiringCache } from '../../core/expiring-cache.ts';
import type { Notifier } from '../../engine/engine.ts';

/**
 * How old an answer of GET batch status may be when its batch changed in another process
 * (BATCHGATE_STATUS_CACHE_MS). Changes made in this one (a slice run here, a control through this service) drop
 * the entry at once through the notifier.
 *
 * Why a cache at all: a running batch is polled by many clients at once (the web UI, `batchgate batch watch`,
 * scripts), and the read, its conversion and serialising 32 fields were most of that route's cost. Measured with
 * `npm run bench:load` (bench/README.md). 100 ms is below any poller's interval worth having, and with 16–64
 * pollers of one batch it still answers almost all of them from memory.
 */
export const DEFAULT_STATUS_CACHE_MS = 100;
const MAX_ENTRIES = 10_000;

/** What a load finds: the batch's workspace and its serialised answer, or undefined when there is no such batch. */
export type StatusLoad = () => Promise<{ workspaceId: string; body: string } | undefined>;

/**
 * Serialised status answers by batch id, dropped when the notifier says the batch changed. The load reads the
 * batch by id alone, whoever asks, so that concurrent misses share one read (ExpiringCache); the answer is then
 * only given to a caller of the batch's own workspace (the route checks access first and passes the workspace),
 * so another tenant's id, like an unknown one, answers undefined: BATCH_NOT_FOUND.
 */
export class BatchStatusCache {
  readonly #cache: ExpiringCache<{ workspaceId: string; body: string }>;
  readonly #off: () => void;

  constructor(notifier: Notifier, ttlMs: number) {
    this.#cache = new ExpiringCache(ttlMs, MAX_ENTRIES);
    this.#off = notifier.onProgress((batchId) => this.#cache.forget(batchId));
  }

  /**
   * The serialised answer for a caller of `workspaceId`, from memory when it is cached (a poller's usual case);
   * undefined when the batch does not exist or is another workspace's.
   * A string, not a Buffer: Node writes a string body in one write with the head, a Buffer as a writev of both,
   * and the string cost 2,400 fewer instructions a request under callgrind (a bare Fastify route answering the
   * same 1 KB either way: 73.5k against 75.9k).
   */
  async body(workspaceId: string, batchId: string, load: StatusLoad): Promise<string | undefined> {
    const found = await (this.#cache.ttlMs > 0 ? this.#cache.get(batchId, load) : load());
    return found?.workspaceId === workspaceId ? found.body : undefined;
  }

  close(): void {
    this.#off();
    this.#cache.clear();
  }
}

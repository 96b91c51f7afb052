import { AppError } from '../../errors.ts';

/** How event streams guard the service (docs/operations.md: Configuration; test/security/sse.test.ts). */
export interface StreamSettings {
  /** BATCHGATE_SSE_MAX_PER_TOKEN: streams one token may hold open in this process; past it, 429 TOO_MANY_STREAMS. */
  maxPerToken: number;
  /** How often an open stream re-checks its caller's token and workspace standing. */
  recheckMs: number;
  /** How long a client may leave written events unread before its stream is dropped. */
  stallMs: number;
  /** An event at least this often while the batch runs. */
  progressMs: number;
  /** ...and no more often than this, however fast slices commit. */
  minGapMs: number;
}

export const DEFAULT_SSE_MAX_PER_TOKEN = 10;

export const DEFAULT_STREAM_SETTINGS: StreamSettings = Object.freeze({
  maxPerToken: DEFAULT_SSE_MAX_PER_TOKEN,
  // Within the auth caches' own lifetime (core/auth.ts): a revocation or removal ends a stream within seconds.
  recheckMs: 2000,
  stallMs: 30_000,
  progressMs: 250,
  minGapMs: 50,
});

/** Open streams per token, in this process: `acquire` takes a place or throws TOO_MANY_STREAMS; the release frees it. */
export class StreamCounter {
  readonly #open = new Map<string, number>();

  constructor(private readonly max: number) {}

  acquire(token: string): () => void {
    const n = this.#open.get(token) ?? 0;
    if (n >= this.max)
      throw new AppError(
        'TOO_MANY_STREAMS',
        `This token has ${n} event streams open, the most allowed (BATCHGATE_SSE_MAX_PER_TOKEN); close one first.`,
      );
    this.#open.set(token, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#open.get(token) ?? 1) - 1;
      if (left > 0) this.#open.set(token, left);
      else this.#open.delete(token);
    };
  }
}

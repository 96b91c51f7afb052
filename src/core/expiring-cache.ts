/**
 * A bounded map whose entries live `ttlMs`, read through a loader. `clear()` forgets everything at once and
 * `forget(key)` one entry; a value loaded while either ran is answered but not kept, so a change that clears the
 * cache is never undone by a read that started before it.
 *
 * One load per key at a time: callers that miss while a load of their key is under way share it. Without that,
 * every entry's expiry was a stampede: 64 pollers on PostgreSQL all missed during the ~1 ms round trip of the
 * first reload, and GET batch status made 585–837 queries a second where its 20 polled batches needed 200
 * (bench:load's status phase, pg_stat_database; 193–210 since). A load must therefore answer the same for every caller of its key; a caller
 * that forgets the key (or clears the cache) also drops the shared load, so later callers read afresh.
 */
export class ExpiringCache<V> {
  readonly #entries = new Map<string, { value: V; expires: number }>();
  readonly #loading = new Map<string, Promise<V | undefined>>();
  #generation = 0;

  constructor(
    readonly ttlMs: number,
    readonly maxEntries: number,
  ) {}

  /** Entries held, live or expired but not yet dropped. */
  get size(): number {
    return this.#entries.size;
  }

  /** The live value for `key`, without loading. */
  peek(key: string): V | undefined {
    const hit = this.#entries.get(key);
    return hit !== undefined && hit.expires > Date.now() ? hit.value : undefined;
  }

  /** The live value for `key`, or what `load` answers (undefined: nothing is kept), or the load already under way. */
  get(key: string, load: () => Promise<V | undefined>): Promise<V | undefined> {
    const now = Date.now();
    const hit = this.#entries.get(key);
    if (hit && hit.expires > now) return Promise.resolve(hit.value);
    const under = this.#loading.get(key);
    if (under) return under;
    const generation = this.#generation;
    const loading = load().then(
      (value) => {
        if (this.#loading.get(key) === loading) this.#loading.delete(key);
        if (value !== undefined && generation === this.#generation) {
          this.#entries.delete(key);
          this.#dropExpired(Date.now());
          // Oldest first out: a Map iterates in insertion order.
          if (this.#entries.size >= this.maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
          this.#entries.set(key, { value, expires: now + this.ttlMs });
        }
        return value;
      },
      (e: unknown) => {
        if (this.#loading.get(key) === loading) this.#loading.delete(key);
        throw e;
      },
    );
    this.#loading.set(key, loading);
    return loading;
  }

  /**
   * Entries go in in the order they expire (one ttl, a Map iterates in insertion order), so the expired ones are at
   * its head: each insert drops them, and a key nobody asks for again is held about one ttl, not until 10,000
   * others push it out (auth.ts keys principals by the caller's token).
   */
  #dropExpired(now: number): void {
    for (const [key, entry] of this.#entries) {
      if (entry.expires > now) return;
      this.#entries.delete(key);
    }
  }

  clear(): void {
    this.#entries.clear();
    this.#loading.clear();
    this.#generation++;
  }

  forget(key: string): void {
    this.#entries.delete(key);
    this.#loading.delete(key);
    this.#generation++;
  }
}

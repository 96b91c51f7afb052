/**
 * A bounded map whose entries live `ttlMs`, read through a loader. `clear()` forgets everything at once and
 * `forget(key)` one entry; a value loaded while either ran is answered but not kept, so a change that clears the
 * cache is never undone by a read that started before it.
 */
export class ExpiringCache<V> {
  readonly #entries = new Map<string, { value: V; expires: number }>();
  #generation = 0;

  constructor(
    readonly ttlMs: number,
    readonly maxEntries: number,
  ) {}

  /** The live value for `key`, without loading: the hot paths answer a hit with no promise (see core/auth.ts). */
  peek(key: string): V | undefined {
    const hit = this.#entries.get(key);
    return hit !== undefined && hit.expires > Date.now() ? hit.value : undefined;
  }

  /** The live value for `key`, or what `load` answers (undefined: nothing is kept). */
  async get(key: string, load: () => Promise<V | undefined>): Promise<V | undefined> {
    const now = Date.now();
    const hit = this.#entries.get(key);
    if (hit && hit.expires > now) return hit.value;
    const generation = this.#generation;
    const value = await load();
    if (value !== undefined && generation === this.#generation) {
      this.#entries.delete(key);
      // Oldest first out: a Map iterates in insertion order.
      if (this.#entries.size >= this.maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
      this.#entries.set(key, { value, expires: now + this.ttlMs });
    }
    return value;
  }

  clear(): void {
    this.#entries.clear();
    this.#generation++;
  }

  forget(key: string): void {
    this.#entries.delete(key);
    this.#generation++;
  }
}

/**
 * ExpiringCache (src/core/expiring-cache.ts): concurrent misses of a key share one load, and a forget or clear
 * during a load keeps its answer out of the cache and out of later callers' hands. Pure memory, no database.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ExpiringCache } from '../../src/core/expiring-cache.ts';

function gate<T>() {
  let open!: (v: T) => void;
  let fail!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((open = res), (fail = rej)));
  return { promise, open, fail };
}

it('shares one load between the callers that miss while it runs, and keeps its value', async () => {
  const cache = new ExpiringCache<string>(60_000, 10);
  const g = gate<string>();
  let loads = 0;
  const load = () => (loads++, g.promise);
  const asked = [cache.get('k', load), cache.get('k', load), cache.get('k', load)];
  g.open('v');
  assert.deepEqual(await Promise.all(asked), ['v', 'v', 'v']);
  assert.equal(loads, 1);
  assert.equal(cache.peek('k'), 'v');
  assert.equal(await cache.get('k', load), 'v');
  assert.equal(loads, 1);
});

it('loads other keys on their own', async () => {
  const cache = new ExpiringCache<string>(60_000, 10);
  let loads = 0;
  const [a, b] = await Promise.all([
    cache.get('a', async () => (loads++, 'A')),
    cache.get('b', async () => (loads++, 'B')),
  ]);
  assert.deepEqual([a, b, loads], ['A', 'B', 2]);
});

it('after a forget during a load: later callers load afresh, and the older answer is not kept', async () => {
  const cache = new ExpiringCache<string>(60_000, 10);
  const first = gate<string>();
  const early = cache.get('k', () => first.promise);
  cache.forget('k');
  const late = cache.get('k', async () => 'new');
  assert.equal(await late, 'new');
  first.open('old');
  assert.equal(await early, 'old');
  assert.equal(cache.peek('k'), 'new', 'the load that began before the forget does not overwrite the one after it');
  cache.clear();
  const second = gate<string>();
  const during = cache.get('k', () => second.promise);
  cache.clear();
  assert.equal(await cache.get('k', async () => 'fresh'), 'fresh');
  second.open('stale');
  assert.equal(await during, 'stale');
  assert.equal(cache.peek('k'), 'fresh', 'a load that began before a clear does not overwrite one after it');
});

it('shares a failed load with the callers that waited on it, keeps nothing, and loads again after', async () => {
  const cache = new ExpiringCache<string>(60_000, 10);
  const g = gate<string>();
  const asked = [cache.get('k', () => g.promise), cache.get('k', () => g.promise)];
  g.fail(new Error('down'));
  for (const r of await Promise.allSettled(asked))
    assert.equal(r.status === 'rejected' && (r.reason as Error).message, 'down');
  assert.equal(await cache.get('k', async () => 'up'), 'up');
});

it('keeps at most maxEntries, the oldest out first', async () => {
  const cache = new ExpiringCache<number>(60_000, 2);
  for (const k of ['a', 'b', 'c']) await cache.get(k, async () => k.charCodeAt(0));
  assert.deepEqual(
    ['a', 'b', 'c'].map((k) => cache.peek(k)),
    [undefined, 98, 99],
  );
});

it('drops expired entries as new ones come in, so a key asked once is not held long after its ttl', async () => {
  const cache = new ExpiringCache<string>(20, 10_000);
  for (const k of ['a', 'b', 'c']) await cache.get(k, async () => k);
  await new Promise((r) => setTimeout(r, 30));
  await cache.get('d', async () => 'd');
  assert.equal(cache.size, 1);
  assert.equal(cache.peek('d'), 'd');
});

/**
 * `npm run bench:cancel`: how long cancelling a batch takes, from the call to its answer, with 10,000 and with
 * 1,000,000 items, on SQLite and (with TEST_PG_URL or DATABASE_URL a postgres URL) on PostgreSQL. The 10k cancel
 * is the floor: the target is a 1M cancel within 2 × of it, i.e. a cancel that does not grow with the batch.
 * Each cancel is taken on a batch that has run a few chunks (some items done, most pending), and checked:
 * counters that add up, every pending item counted skipped.
 *
 *   npm run bench:cancel
 *   npm run bench:cancel -- --big 200000      a quicker pass
 */
import { makeCtx } from '../src/core/make-ctx.ts';
import { migrate } from '../src/db/migrate.ts';
import { findBatch } from '../src/engine/batches.ts';
import { cancelBatch, pauseBatch } from '../src/engine/controls.ts';
import { makeEngine } from '../src/engine/engine.ts';
import { NO_REQUEST } from '../src/log.ts';
import { openBenchDb, seedItems } from './bench-db.ts';

const argv = process.argv.slice(2);
const value = (name: string, fallback: number) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const SMALL = 10_000;
const BIG = value('--big', 1_000_000);
const pgUrl = [process.env.TEST_PG_URL, process.env.DATABASE_URL].find((u) => u && /^postgres(ql)?:\/\//.test(u));

/**
 * Milliseconds to cancel a batch of `items` items after its first chunks ran: once from `paused` (the cancel's own
 * cost) and once mid-run (that cost plus waiting for the slices in flight, which a cancel must let commit).
 */
async function cancelMs(dialect: 'sqlite' | 'postgres', items: number): Promise<{ paused: number; running: number }> {
  const bench = await openBenchDb(dialect, pgUrl);
  try {
    await migrate(bench.opened);
    const ctx = makeCtx(bench.opened);
    const { actor, ds } = await seedItems(ctx, 2 * items);
    const engine = await makeEngine(ctx, bench.opened);
    engine.startWorker({ idlePollMs: 50 });
    try {
      const timed = async (half: number, pauseFirst: boolean): Promise<number> => {
        const range = [half * items + 1, (half + 1) * items];
        const { batch } = await engine.submit(NO_REQUEST, actor, {
          operation: 'action',
          action: 'close',
          target: { datastore: ds.id, conditions: [{ id: 'n', search_value: range }] },
        });
        for (;;) {
          const b = (await findBatch(ctx, batch.id))!;
          if (b.succeeded >= 2000) break;
          await new Promise((r) => setTimeout(r, 5));
        }
        if (pauseFirst) await pauseBatch(ctx, (await findBatch(ctx, batch.id))!);
        const t0 = performance.now();
        const cancelled = await cancelBatch(ctx, (await findBatch(ctx, batch.id))!);
        const ms = performance.now() - t0;
        const b = (await findBatch(ctx, batch.id))!;
        if (
          cancelled.state !== 'cancelled' ||
          b.pending !== 0 ||
          b.total !== b.succeeded + b.failed + b.skipped ||
          b.total !== items
        ) {
          throw new Error(`cancel left ${JSON.stringify(b)}`);
        }
        return ms;
      };
      const running = await timed(1, false);
      return { paused: await timed(0, true), running };
    } finally {
      await engine.close();
    }
  } finally {
    await bench.opened.close();
    await bench.cleanup();
  }
}

console.log(`batchgate cancel bench: ${SMALL} vs ${BIG} items, node ${process.version}`);
const dialects: ('sqlite' | 'postgres')[] = ['sqlite', ...(pgUrl ? (['postgres'] as const) : [])];
if (!pgUrl) console.log('  (PostgreSQL skipped: set TEST_PG_URL=postgres://… to include it)');
for (const d of dialects) {
  const small = await cancelMs(d, SMALL);
  const big = await cancelMs(d, BIG);
  const ratio = big.paused / small.paused;
  const f = (ms: number) => `${ms.toFixed(1)} ms`;
  console.log(
    `  ${d.padEnd(8)} cancel from paused: ${SMALL} items ${f(small.paused)}, ${BIG} items ${f(big.paused)}: ${ratio.toFixed(2)} × (target ≤ 2) ${ratio <= 2 ? 'ok' : 'MISSED'}`,
  );
  console.log(
    `  ${d.padEnd(8)} cancel mid-run (waits for the slices in flight): ${SMALL} items ${f(small.running)}, ${BIG} items ${f(big.running)}`,
  );
}

/**
 * Fair scheduling, one dialect per process: `node --import tsx bench/fairness.ts '{"dialect":"sqlite"}'`
 * (npm run bench runs it unless --no-fairness). Prints a human summary on stderr, then one JSON line.
 *
 * 1. Latency of a 100-item batch (submit → finished) on an idle engine, then submitted while a 1,000,000-item
 *    batch runs (after that one has run a few chunks), with the service's default worker loops (one on SQLite,
 *    two on PostgreSQL). Same items shape, same action; the big batch is cancelled afterwards.
 * 2. The cost of one claim (claim-chunk.ts: the claim statement and the pass charge; the release after it is
 *    not counted) with thousands of ready chunks: three runnable batches of 1000 chunks and a paused one of 1000,
 *    against ten ready chunks; mean of 200 claims, each chunk handed back after its claim so the count stays.
 */
import { sql } from 'kysely';
import type { Ctx } from '../src/core/context.ts';
import type { Actor } from '../src/core/operations/types.ts';
import { makeCtx } from '../src/core/make-ctx.ts';
import { migrate } from '../src/db/migrate.ts';
import { findBatch } from '../src/engine/batches.ts';
import { cancelBatch, pauseBatch } from '../src/engine/controls.ts';
import { makeEngine, type Engine } from '../src/engine/engine.ts';
import { NO_REQUEST } from '../src/log.ts';
import { claimChunk } from '../src/engine/sql/claim-chunk.ts';
import { releaseChunk } from '../src/engine/sql/release-chunk.ts';
import { submitBatch } from '../src/engine/submit.ts';
import { itemIdOf, openBenchDb, seedItems } from './bench-db.ts';

const args = JSON.parse(process.argv[2] ?? '{}') as { dialect: 'sqlite' | 'postgres'; pgUrl?: string; big?: number };
const BIG = args.big ?? 1_000_000;
const SMALL = 100;
const log = (s: string) => process.stderr.write(`  ${args.dialect.padEnd(8)} ${s}\n`);

async function waitUntil(
  ctx: Ctx,
  id: string,
  done: (b: NonNullable<Awaited<ReturnType<typeof findBatch>>>) => boolean,
): Promise<void> {
  for (;;) {
    const b = (await findBatch(ctx, id))!;
    if (done(b)) return;
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Submits the action on items `from`…`from + SMALL - 1` and waits for its end; started and finished, ms after submit. */
async function smallBatch(
  ctx: Ctx,
  engine: Engine,
  actor: Actor,
  from: number,
): Promise<{ startMs: number; endMs: number }> {
  const ids = Array.from({ length: SMALL }, (_, i) => itemIdOf(from + i));
  const t0 = Date.now();
  const { batch } = await engine.submit(NO_REQUEST, actor, { operation: 'action', action: 'close', target: { ids } });
  await waitUntil(ctx, batch.id, (b) => b.state === 'succeeded');
  const b = (await findBatch(ctx, batch.id))!;
  if (b.succeeded !== SMALL) throw new Error(`small batch: ${JSON.stringify(b)}`);
  return { startMs: b.started_at! - t0, endMs: b.finished_at! - t0 };
}

async function claimCost(ctx: Ctx, n = 200): Promise<number> {
  let total = 0;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const c = await claimChunk(ctx, 'bench', 60_000);
    total += performance.now() - t0;
    if (!c) throw new Error('nothing to claim');
    await releaseChunk(ctx, c.id, 'bench', false);
  }
  return total / n;
}

async function main() {
  const db = await openBenchDb(args.dialect, args.pgUrl);
  try {
    await migrate(db.opened);
    const ctx = makeCtx(db.opened);
    const t = Date.now();
    const { actor, ds } = await seedItems(ctx, BIG + 2 * SMALL);
    log(`seeded ${BIG + 2 * SMALL} items in ${Date.now() - t} ms`);

    const engine = await makeEngine(ctx, db.opened);
    const worker = engine.startWorker({ idlePollMs: 1000 });
    const idle = await smallBatch(ctx, engine, actor, BIG + 1);
    log(`idle engine: ${SMALL} items started ${idle.startMs} ms, finished ${idle.endMs} ms after submit`);

    const t1 = Date.now();
    const { batch: big } = await engine.submit(NO_REQUEST, actor, {
      operation: 'action',
      action: 'close',
      target: { datastore: ds.id, conditions: [], limit: BIG },
    });
    log(`submitted ${BIG} targets in ${Date.now() - t1} ms`);
    await waitUntil(ctx, big.id, (b) => b.succeeded >= 3000);
    const loaded = await smallBatch(ctx, engine, actor, BIG + SMALL + 1);
    const bigNow = (await findBatch(ctx, big.id))!;
    log(
      `behind ${BIG}: ${SMALL} items started ${loaded.startMs} ms, finished ${loaded.endMs} ms after submit (the big batch at ${bigNow.succeeded})`,
    );
    const t2 = Date.now();
    await cancelBatch(ctx, bigNow);
    // One transaction skips every pending item: on SQLite nothing else writes meanwhile.
    log(`cancelled the big batch (${bigNow.pending} pending items skipped) in ${Date.now() - t2} ms`);
    await worker.stop();
    await engine.close();

    // Claim cost: three runnable batches and a paused one of 1000 ready chunks each (100 targets per chunk).
    const chunks = async (from: number) => {
      const ids = Array.from({ length: 100_000 }, (_, i) => itemIdOf(from + i));
      return (
        await submitBatch(ctx, actor, { operation: 'action', action: 'close', target: { ids } }, { chunkSize: 100 })
      ).batch;
    };
    const paused = await chunks(1);
    await pauseBatch(ctx, paused);
    for (const from of [100_001, 200_001, 300_001]) await chunks(from);
    if (ctx.caps.dialect === 'postgres') await sql`analyze`.execute(ctx.db);
    const many = await claimCost(ctx);
    const ready = await ctx.db
      .selectFrom('work_chunk')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('state', '=', 'ready')
      .executeTakeFirstOrThrow();
    const gone = await ctx.db
      .selectFrom('batch')
      .select('id')
      .where('state', 'in', ['queued', 'running', 'paused'])
      .execute();
    for (const b of gone) await cancelBatch(ctx, (await findBatch(ctx, b.id))!);
    await submitBatch(
      ctx,
      actor,
      {
        operation: 'action',
        action: 'close',
        target: { ids: Array.from({ length: 1000 }, (_, i) => itemIdOf(400_001 + i)) },
      },
      { chunkSize: 100 },
    );
    const fewMs = await claimCost(ctx);
    log(
      `claim: ${many.toFixed(2)} ms with ${Number(ready.n)} ready chunks (3 runnable batches + 1 paused), ${fewMs.toFixed(2)} ms with 10`,
    );

    process.stdout.write(
      JSON.stringify({
        dialect: args.dialect,
        big: BIG,
        idleStartMs: idle.startMs,
        idleEndMs: idle.endMs,
        loadedStartMs: loaded.startMs,
        loadedEndMs: loaded.endMs,
        bigDoneThen: bigNow.succeeded,
        claimMsMany: Math.round(many * 100) / 100,
        readyChunks: Number(ready.n),
        claimMsFew: Math.round(fewMs * 100) / 100,
      }) + '\n',
    );
    await db.opened.close();
  } finally {
    await db.cleanup();
  }
}

await main();
process.exit(0);

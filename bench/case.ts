/**
 * One benchmark case in its own process (so peak RSS is its own): prepares N items in a fresh database, then
 * runs either the raw floor (hand-written SQL doing the same per-item writes) or the engine on them, and
 * prints one JSON line. Run by bench/run.ts.
 */
import { spawn } from 'node:child_process';
import { makeCtx } from '../src/core/make-ctx.ts';
import { migrate } from '../src/db/migrate.ts';
import type { OpenDb } from '../src/db/open-db.ts';
import { findBatch } from '../src/engine/batches.ts';
import { makeEngine } from '../src/engine/engine.ts';
import { submitBatch } from '../src/engine/submit.ts';
import { openBenchDb, seedItems } from './bench-db.ts';

interface CaseArgs {
  dialect: 'sqlite' | 'postgres';
  /** `procs`: the engine in `workers` separate worker processes (PostgreSQL). */
  mode: 'floor' | 'engine' | 'procs';
  workers?: number;
  /** Chunk loops per worker process in `procs` mode. */
  concurrency?: number;
  items: number;
  chunk: number;
  pgUrl?: string;
}

const args = JSON.parse(process.argv[2]!) as CaseArgs;
const CHUNK = args.chunk;

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);

async function main() {
  const { opened, schema: schemaName, cleanup } = await openBenchDb(args.dialect, args.pgUrl);
  try {
    await migrate(opened);
    const ctx = makeCtx(opened);
    const { actor, ds, userId, workspaceId } = await seedItems(ctx, args.items);
    const action = ds.actionByKey.get('close')!;
    const t0 = performance.now();
    const { batch } = await submitBatch(
      ctx,
      actor,
      { operation: 'action', action: 'close', target: { datastore: ds.id, conditions: [] } },
      { chunkSize: CHUNK },
    );
    const submitMs = performance.now() - t0;
    let runMs: number;
    if (args.mode === 'engine') {
      const engine = await makeEngine(ctx, opened);
      const t1 = performance.now();
      const worker = engine.startWorker({ idlePollMs: 5, concurrency: 1 });
      for (;;) {
        const b = (await findBatch(ctx, batch.id))!;
        if (b.state === 'succeeded' || b.state === 'completed_with_errors' || b.state === 'failed') {
          if (b.succeeded !== args.items) throw new Error(`engine: ${JSON.stringify(b)}`);
          break;
        }
        await engine.notifier.waitForWork(20);
      }
      runMs = performance.now() - t1;
      await worker.stop();
      await engine.close();
    } else if (args.mode === 'procs') {
      const t1 = performance.now();
      const children = Array.from({ length: args.workers ?? 1 }, () =>
        spawn(
          process.execPath,
          ['--import', 'tsx', new URL('../test/engine/fixtures/worker-process.ts', import.meta.url).pathname],
          {
            env: {
              ...process.env,
              DB_URL: args.pgUrl,
              DB_SCHEMA: schemaName,
              LEASE_MS: '30000',
              CONCURRENCY: String(args.concurrency ?? 1),
            },
            stdio: ['ignore', 'ignore', 'inherit'],
          },
        ),
      );
      for (;;) {
        const b = (await findBatch(ctx, batch.id))!;
        if (b.state === 'succeeded') break;
        if (b.state === 'completed_with_errors' || b.state === 'failed') throw new Error(`procs: ${JSON.stringify(b)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      runMs = performance.now() - t1;
      await Promise.all(children.map((c) => new Promise((r) => (c.once('exit', r), c.kill('SIGTERM')))));
    } else {
      const t1 = performance.now();
      const n =
        args.dialect === 'sqlite'
          ? floorSqlite(opened, batch.id, workspaceId, userId, action.id, ds.statuses[0]!.id, ds.statuses[1]!.id)
          : await floorPostgres(
              opened,
              batch.id,
              workspaceId,
              userId,
              action.id,
              ds.statuses[0]!.id,
              ds.statuses[1]!.id,
            );
      runMs = performance.now() - t1;
      if (n !== args.items) throw new Error(`floor changed ${n} of ${args.items}`);
    }
    clearInterval(sampler);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const out = {
      ...args,
      submitMs: Math.round(submitMs),
      runMs: Math.round(runMs),
      itemsPerSec: Math.round(args.items / (runMs / 1000)),
      peakRssMb: Math.round(peakRss / 1048576),
      maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    };
    process.stdout.write(JSON.stringify(out) + '\n');
    await opened.close();
  } finally {
    await cleanup();
  }
}

/**
 * The SQLite floor: better-sqlite3 prepared statements, synchronous, one transaction per chunk; per item a
 * select, a rev_no-guarded update, a history insert and an outcome update; per chunk a counter update.
 */
function floorSqlite(
  opened: OpenDb,
  batchId: string,
  ws: string,
  user: string,
  actionId: string,
  from: string,
  to: string,
): number {
  const db = opened.sqlite!;
  const targets = db.prepare(
    'select seq, target_id from batch_item where batch_id = ? and seq between ? and ? order by seq',
  );
  const sel = db.prepare('select id, rev_no, status_id from item where id = ?');
  const upd = db.prepare(
    'update item set status_id = ?, rev_no = rev_no + 1, updated_at = ?, updated_by = ? where id = ? and rev_no = ?',
  );
  const hist = db.prepare(
    'insert into item_history (id, workspace_id, item_id, kind, user_id, action_id, from_status_id, to_status_id, batch_id, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const out = db.prepare(
    "update batch_item set state = 'succeeded', attempts = attempts + 1, updated_at = ? where batch_id = ? and seq = ?",
  );
  const counters = db.prepare('update batch set succeeded = succeeded + ?, updated_at = ? where id = ?');
  let changed = 0;
  let hid = 5_000_000_000_000_000_000n;
  for (let from_ = 1; from_ <= args.items; from_ += CHUNK) {
    db.transaction(() => {
      const now = Date.now();
      let n = 0;
      for (const t of targets.all(batchId, from_, from_ + CHUNK - 1) as { seq: number; target_id: string }[]) {
        const row = sel.get(t.target_id) as { rev_no: number; status_id: string } | undefined;
        if (!row || row.status_id !== from) continue;
        if (upd.run(to, now, user, t.target_id, row.rev_no).changes !== 1) continue;
        hist.run(String(hid++), ws, t.target_id, 'action', user, actionId, from, to, batchId, now);
        out.run(now, batchId, t.seq);
        n++;
      }
      counters.run(n, now, batchId);
      changed += n;
    })();
  }
  return changed;
}

/**
 * The PostgreSQL floor: the same writes, set-based per chunk with unnest arrays (per-item round trips would
 * measure the network, not the database): select for update, guarded update, history insert, outcome update,
 * counter update, one transaction per chunk.
 */
async function floorPostgres(
  opened: OpenDb,
  batchId: string,
  ws: string,
  user: string,
  actionId: string,
  from: string,
  to: string,
): Promise<number> {
  const c = await opened.pool!.connect();
  let changed = 0;
  let hid = 5_000_000_000_000_000_000n;
  try {
    for (let from_ = 1; from_ <= args.items; from_ += CHUNK) {
      await c.query('begin');
      const now = Date.now();
      const t = await c.query<{ seq: number; target_id: string }>(
        'select seq, target_id from batch_item where batch_id = $1 and seq between $2 and $3 order by seq for update',
        [batchId, from_, from_ + CHUNK - 1],
      );
      const ids = t.rows.map((r) => r.target_id);
      const rows = await c.query<{ id: string; rev_no: number; status_id: string }>(
        'select id, rev_no, status_id from item where id = any($1) for update',
        [ids],
      );
      const ok = rows.rows.filter((r) => r.status_id === from);
      const upd = await c.query<{ id: string }>(
        'update item set status_id = $1, rev_no = item.rev_no + 1, updated_at = $2, updated_by = $3 from unnest($4::text[], $5::int[]) as v(id, rev) where item.id = v.id and item.rev_no = v.rev returning item.id',
        [to, now, user, ok.map((r) => r.id), ok.map((r) => r.rev_no)],
      );
      const done = upd.rows.map((r) => r.id);
      const hids = done.map(() => String(hid++));
      await c.query(
        `insert into item_history (id, workspace_id, item_id, kind, user_id, action_id, from_status_id, to_status_id, batch_id, created_at)
         select h, $1, i, 'action', $2, $3, $4, $5, $6, $7 from unnest($8::text[], $9::text[]) as v(h, i)`,
        [ws, user, actionId, from, to, batchId, now, hids, done],
      );
      const seqs = t.rows.filter((r) => done.includes(r.target_id)).map((r) => r.seq);
      await c.query(
        "update batch_item set state = 'succeeded', attempts = attempts + 1, updated_at = $1 where batch_id = $2 and seq = any($3)",
        [now, batchId, seqs],
      );
      await c.query('update batch set succeeded = succeeded + $1, updated_at = $2 where id = $3', [
        done.length,
        now,
        batchId,
      ]);
      await c.query('commit');
      changed += done.length;
    }
  } finally {
    c.release();
  }
  return changed;
}

await main();
process.exit(0);

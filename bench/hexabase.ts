/**
 * Hexabase ExecuteBulkAction on 300 items through real HTTP on SQLite, against a raw floor for the
 * same 300 writes. The service runs as `npm start` does (API + embedded worker) and listens on a port; a
 * client loop sends the bulk action with `fetch`, alternating close (open → done) and reopen (done → open) on
 * the same 300 items, so every call changes all 300. The floor is hand-written better-sqlite3 statements in
 * one transaction, the shape of bench/case.ts floorSqlite: per item a select, a rev_no-guarded update, a
 * history insert and an outcome update. Target: p50 ≤ 4 × the floor's p50.
 *
 *   node --import tsx bench/hexabase.ts [--iterations 200]     (npm run bench runs it unless --no-hexabase)
 *
 * Prints a human summary, then one JSON line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { buildApp } from '../src/api/app.ts';
import { createDatastore } from '../src/core/datastores.ts';
import { createItems } from '../src/core/items.ts';
import { makeCtx } from '../src/core/make-ctx.ts';
import { issueToken } from '../src/core/tokens.ts';
import { createUser } from '../src/core/users.ts';
import { createWorkspace } from '../src/core/workspaces.ts';
import { migrate } from '../src/db/migrate.ts';
import { openDb } from '../src/db/open-db.ts';
import { makeEngine } from '../src/engine/engine.ts';
import { submitBatch } from '../src/engine/submit.ts';

const N = 300;
const argv = process.argv.slice(2);
const iIdx = argv.indexOf('--iterations');
const ITERATIONS = iIdx >= 0 ? Number(argv[iIdx + 1]) : 200;
const WARMUP = 20;

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
const ms = (n: number) => Math.round(n * 100) / 100;

const dir = mkdtempSync(join(tmpdir(), 'bg-bench-hexabase-'));
const opened = openDb(join(dir, 'bench.db'));
try {
  await migrate(opened);
  const ctx = makeCtx(opened);
  const user = await createUser(ctx, { name: 'bench', isSystemAdmin: true });
  const principal = { userId: user.id, name: user.name, isSystemAdmin: true };
  const token = await issueToken(ctx, user.id);
  const ws = await createWorkspace(ctx, principal, { name: 'bench', project_id: 'bench' });
  const access = { principal, workspaceId: ws.id, projectId: 'bench', role: 'admin' as const };
  const def = (display_id: string) => ({
    name: display_id,
    display_id,
    fields: [{ display_id: 'n', name: 'n', type: 'number' }],
    statuses: [
      { display_id: 'open', name: 'Open' },
      { display_id: 'done', name: 'Done' },
    ],
    actions: [
      { display_id: 'close', name: 'Close', from: ['open'], to: 'done' },
      { display_id: 'reopen', name: 'Reopen', from: ['done'], to: 'open' },
    ],
  });
  const ds = await createDatastore(ctx, ws.id, def('hexa'));
  const floorDs = await createDatastore(ctx, ws.id, def('floor'));
  await createItems(
    ctx,
    access,
    ds,
    Array.from({ length: N }, (_, i) => ({ title: `item ${i}`, fields: { n: i } })),
  );
  const floorIds = await createItems(
    ctx,
    access,
    floorDs,
    Array.from({ length: N }, (_, i) => ({ title: `item ${i}`, fields: { n: i } })),
  );

  // --- floor: the same 300 writes, hand-written, one transaction per call ---
  const actor = { principal, workspaceId: ws.id, role: 'admin' as const };
  const { batch: floorBatch } = await submitBatch(ctx, actor, {
    operation: 'action',
    action: 'close',
    target: { ids: floorIds },
    dry_run: true,
  });
  const db = opened.sqlite!;
  const targets = db.prepare('select seq, target_id from batch_item where batch_id = ? order by seq');
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
  const [fOpen, fDone] = [floorDs.statuses[0]!.id, floorDs.statuses[1]!.id];
  let hid = 5_000_000_000_000_000_000n;
  const floorOnce = (k: number) => {
    const [from, to, action] =
      k % 2 === 0 ? [fOpen, fDone, floorDs.actions[0]!.id] : [fDone, fOpen, floorDs.actions[1]!.id];
    let n = 0;
    db.transaction(() => {
      const now = Date.now();
      for (const t of targets.all(floorBatch.id) as { seq: number; target_id: string }[]) {
        const row = sel.get(t.target_id) as { rev_no: number; status_id: string } | undefined;
        if (!row || row.status_id !== from) continue;
        if (upd.run(to, now, user.id, t.target_id, row.rev_no).changes !== 1) continue;
        hist.run(String(hid++), ws.id, t.target_id, 'action', user.id, action, from, to, floorBatch.id, now);
        out.run(now, floorBatch.id, t.seq);
        n++;
      }
    })();
    if (n !== N) throw new Error(`floor changed ${n} of ${N}`);
  };
  const floor: number[] = [];
  for (let k = 0; k < WARMUP + ITERATIONS; k++) {
    const t0 = performance.now();
    floorOnce(k);
    if (k >= WARMUP) floor.push(performance.now() - t0);
  }

  // --- the service on a port, as `npm start` runs it ---
  const engine = await makeEngine(ctx, opened);
  const worker = engine.startWorker();
  const app = await buildApp({ ctx, engine });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  const url = (action: string) =>
    `http://127.0.0.1:${port}/api/v0/applications/bench/datastores/hexa/items/bulkaction/${action}`;
  const bodies = [
    JSON.stringify({
      conditions: [{ id: 'status', search_value: ['open'] }],
      max_items: 300,
      continue_proc: true,
      comment: 'bench',
    }),
    JSON.stringify({
      conditions: [{ id: 'status', search_value: ['done'] }],
      max_items: 300,
      continue_proc: true,
      comment: 'bench',
    }),
  ];
  const http: number[] = [];
  for (let k = 0; k < WARMUP + ITERATIONS; k++) {
    const t0 = performance.now();
    const res = await fetch(url(k % 2 === 0 ? 'close' : 'reopen'), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: bodies[k % 2],
    });
    const body = (await res.json()) as { has_error: boolean; result: { matched: number; processed: number } };
    const dt = performance.now() - t0;
    if (res.status !== 200 || body.has_error || body.result.processed !== N)
      throw new Error(`bulk action: ${res.status} ${JSON.stringify(body)}`);
    if (k >= WARMUP) http.push(dt);
  }
  await app.close();
  await worker.stop();
  await engine.close();

  floor.sort((a, b) => a - b);
  http.sort((a, b) => a - b);
  const result = {
    case: 'hexabase-bulkaction',
    items: N,
    iterations: ITERATIONS,
    httpP50Ms: ms(pct(http, 50)),
    httpP99Ms: ms(pct(http, 99)),
    floorP50Ms: ms(pct(floor, 50)),
    floorP99Ms: ms(pct(floor, 99)),
    ratioP50: ms(pct(http, 50) / pct(floor, 50)),
  };
  console.log(
    `  hexabase bulkaction ${N} items over HTTP (sqlite): p50 ${result.httpP50Ms} ms  p99 ${result.httpP99Ms} ms;  raw floor p50 ${result.floorP50Ms} ms  p99 ${result.floorP99Ms} ms;  p50/floor ${result.ratioP50}`,
  );
  console.log(JSON.stringify(result));
} finally {
  await opened.close();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);

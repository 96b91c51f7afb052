/**
 * GET batch status in two checkouts of batchgate, loaded side by side in one process: the same machine minute
 * falls on both, which paired processes on a loaded VM cannot promise. Each service runs on an SQLite file of its
 * own (worker on, status cache as configured by default); requests go through `app.inject`, 16 in flight, in
 * alternating rounds, and the figure is the process's CPU time per request, so it leaves out the socket.
 *
 *   git worktree add /tmp/before <commit>   (with node_modules and web-dist as in the checkout)
 *   node --import tsx bench/ab-status.ts /tmp/before .  [requests a round, 5000] [rounds, 12]
 *
 * Prints one JSON line: each round's µs per request for A and B, their medians and B ÷ A.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
const TOKEN = 'bg_' + 'A'.repeat(43);
async function make(tree: string) {
  tree = resolve(tree);
  const { createService } = await import(`${tree}/src/server.ts`);
  const { readConfig } = await import(`${tree}/src/config.ts`);
  const dir = mkdtempSync(join(tmpdir(), 'bg-ab-'));
  const config = readConfig({
    DATABASE_URL: join(dir, 'db.sqlite'),
    BATCHGATE_ADMIN_TOKEN: TOKEN,
    BATCHGATE_DEMO: '0',
    LOG_LEVEL: 'warn',
    PORT: '0',
  });
  const svc = await createService(config, { listen: false, worker: true, logDestination: { write() {} } });
  const h = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  const ws = JSON.parse(
    (await svc.app.inject({ method: 'POST', url: '/api/v1/workspaces', headers: h, payload: { name: 'ab' } })).body,
  ).id;
  await svc.app.inject({
    method: 'POST',
    url: `/api/v1/workspaces/${ws}/datastores`,
    headers: h,
    payload: {
      name: 'D',
      display_id: 'd',
      fields: [{ display_id: 'n', name: 'N', type: 'number' }],
      statuses: [{ display_id: 'open', name: 'Open' }],
      actions: [],
    },
  });
  const ids = JSON.parse(
    (
      await svc.app.inject({
        method: 'POST',
        url: `/api/v1/workspaces/${ws}/datastores/d/items`,
        headers: h,
        payload: { items: [{ title: 'a', fields: { n: 1 } }] },
      })
    ).body,
  ).ids;
  const b = JSON.parse(
    (
      await svc.app.inject({
        method: 'POST',
        url: `/api/v1/workspaces/${ws}/batches`,
        headers: h,
        payload: { operation: 'update', fields: { n: 2 }, target: { ids } },
      })
    ).body,
  );
  const url = `/api/v1/workspaces/${ws}/batches/${b.id}`;
  await new Promise((r) => setTimeout(r, 1000));
  const one = await svc.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${TOKEN}` } });
  if (one.statusCode !== 200) throw new Error(`${tree}: ${one.statusCode} ${one.body}`);
  return { svc, url };
}
async function round(s: { svc: any; url: string }, n: number): Promise<number> {
  const headers = { authorization: `Bearer ${TOKEN}` };
  const c0 = process.cpuUsage();
  // 16 in flight, like bench:load's connections.
  let left = n;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (left-- > 0) {
        const r = await s.svc.app.inject({ method: 'GET', url: s.url, headers });
        if (r.statusCode !== 200) throw new Error(String(r.statusCode));
      }
    }),
  );
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / n;
}
async function main() {
  const [treeA, treeB, requests, rounds] = process.argv.slice(2);
  if (!treeA || !treeB) throw new Error('usage: bench/ab-status.ts <checkout A> <checkout B> [requests] [rounds]');
  const before = await make(treeA);
  const after = await make(treeB);
  const N = Number(requests ?? 5000);
  const R = Number(rounds ?? 12);
  await round(before, N);
  await round(after, N);
  const res: Record<string, number[]> = { before: [], after: [] };
  for (let i = 0; i < R; i++) {
    const [a, b] = i % 2 ? [after, before] : [before, after];
    const ka = i % 2 ? 'after' : 'before',
      kb = i % 2 ? 'before' : 'after';
    res[ka]!.push(await round(a, N));
    res[kb]!.push(await round(b, N));
  }
  const med = (x: number[]) => [...x].sort((p, q) => p - q)[Math.floor(x.length / 2)]!;
  console.log(
    JSON.stringify({
      a: res.before!.map((x) => +x.toFixed(1)),
      b: res.after!.map((x) => +x.toFixed(1)),
      medianA: med(res.before!),
      medianB: med(res.after!),
      ratio: med(res.after!) / med(res.before!),
    }),
  );
  await before.svc.close();
  await after.svc.close();
  process.exit(0);
}
void main();

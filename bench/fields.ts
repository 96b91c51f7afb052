/**
 * Field writes and field searches, one dialect per process:
 *   node --import tsx bench/fields.ts '{"dialect":"sqlite","items":20000}'   (add "pgUrl" for postgres)
 * `npm run bench` runs it unless --no-fields. Prints a human summary on stderr, then one JSON line.
 *
 * Two tenants hold `items` items each in a datastore of five searchable fields. Measured: the bulk import of one
 * tenant's items (createItems, 1000 a call), an engine `update` batch setting two fields on all of them, field
 * searches (exact text, number range, date range, select value; median of 15, count and first page), and
 * creating a 200-field datastore while both tenants' items exist. The plan of the number-range search is printed.
 */
import { sql } from 'kysely';
import { makeCtx } from '../src/core/make-ctx.ts';
import { createDatastore } from '../src/core/datastores.ts';
import { createItems, searchItems } from '../src/core/items.ts';
import { createUser } from '../src/core/users.ts';
import { createWorkspace } from '../src/core/workspaces.ts';
import { migrate } from '../src/db/migrate.ts';
import { findBatch } from '../src/engine/batches.ts';
import { makeEngine } from '../src/engine/engine.ts';
import { NO_REQUEST } from '../src/log.ts';
import type { Condition } from '../src/core/conditions.ts';
import type { Ctx } from '../src/core/context.ts';
import { openBenchDb } from './bench-db.ts';

const args = JSON.parse(process.argv[2] ?? '{}') as { dialect: 'sqlite' | 'postgres'; pgUrl?: string; items?: number };
const N = args.items ?? 20_000;
const log = (s: string) => process.stderr.write(`  ${args.dialect.padEnd(8)} ${s}\n`);

const DEF = {
  name: 'fields',
  display_id: 'f',
  fields: [
    { display_id: 'code', name: 'Code', type: 'text' },
    { display_id: 'amount', name: 'Amount', type: 'number' },
    { display_id: 'due', name: 'Due', type: 'date' },
    { display_id: 'kind', name: 'Kind', type: 'select', options: ['a', 'b', 'c', 'd', 'e'] },
    { display_id: 'note', name: 'Note', type: 'text' },
  ],
  statuses: [{ display_id: 'open', name: 'Open' }],
  actions: [],
};

const day = (i: number) => new Date(Date.UTC(2020, 0, 1) + (i % 1500) * 86_400_000).toISOString().slice(0, 10);
const input = (i: number) => ({
  title: `item ${i}`,
  fields: {
    code: `C-${i}`,
    amount: (i * 7919) % 100_000,
    due: day(i),
    kind: 'abcde'[i % 5]!,
    note: `note ${i % 97} for item ${i}`,
  },
});

async function tenant(ctx: Ctx, name: string) {
  const user = await createUser(ctx, { name, isSystemAdmin: true });
  const principal = { userId: user.id, name, isSystemAdmin: true };
  const ws = await createWorkspace(ctx, principal, { name });
  const ds = await createDatastore(ctx, ws.id, DEF);
  return { principal, ws, ds, access: { principal, workspaceId: ws.id, projectId: null, role: 'admin' as const } };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  const db = await openBenchDb(args.dialect, args.pgUrl);
  try {
    await migrate(db.opened);
    const ctx = makeCtx(db.opened);
    const other = await tenant(ctx, 'other');
    const me = await tenant(ctx, 'me');
    for (let i = 0; i < N; i += 1000)
      await createItems(
        ctx,
        other.access,
        other.ds,
        Array.from({ length: Math.min(1000, N - i) }, (_, k) => input(i + k)),
      );
    const t0 = performance.now();
    for (let i = 0; i < N; i += 1000)
      await createItems(
        ctx,
        me.access,
        me.ds,
        Array.from({ length: Math.min(1000, N - i) }, (_, k) => input(i + k)),
      );
    const importMs = performance.now() - t0;
    log(`import ${N} items: ${Math.round(importMs)} ms, ${Math.round(N / (importMs / 1000))} items/s`);
    if (ctx.caps.dialect === 'postgres') await sql`analyze`.execute(ctx.db);

    const engine = await makeEngine(ctx, db.opened);
    const actor = { principal: me.principal, workspaceId: me.ws.id, role: 'admin' as const };
    const t1 = performance.now();
    const { batch } = await engine.submit(NO_REQUEST, actor, {
      operation: 'update',
      fields: { amount: 1, kind: 'b' },
      target: { datastore: me.ds.id, conditions: [] },
    });
    const worker = engine.startWorker({ idlePollMs: 5, concurrency: 1 });
    for (;;) {
      const b = (await findBatch(ctx, batch.id))!;
      if (b.state === 'succeeded') break;
      if (b.state === 'completed_with_errors' || b.state === 'failed') throw new Error(JSON.stringify(b));
      await engine.notifier.waitForWork(20);
    }
    const updateMs = performance.now() - t1;
    await worker.stop();
    await engine.close();
    log(`update batch ${N} items: ${Math.round(updateMs)} ms, ${Math.round(N / (updateMs / 1000))} items/s`);
    // Back to varied values for the searches, through the same path as the import.
    const restore = await createItems(
      ctx,
      me.access,
      me.ds,
      Array.from({ length: Math.min(N, 1000) }, (_, k) => input(N + k)),
    );
    if (ctx.caps.dialect === 'postgres') await sql`analyze`.execute(ctx.db);

    const searches: [string, Condition[]][] = [
      ['exact code', [{ id: 'code', search_value: [`C-${N + 17}`], exact_match: true }]],
      ['amount range 1%', [{ id: 'amount', search_value: [50_000, 50_999] }]],
      ['due range 1 month', [{ id: 'due', search_value: ['2021-03-01', '2021-03-31'] }]],
      ['kind = c', [{ id: 'kind', search_value: ['c'] }]],
    ];
    const out: Record<string, number> = {};
    for (const [name, conditions] of searches) {
      const times: number[] = [];
      let total = 0;
      for (let r = 0; r < 15; r++) {
        const t = performance.now();
        total = (await searchItems(ctx, me.ds, { conditions, per_page: 100 })).total;
        times.push(performance.now() - t);
      }
      out[name] = Math.round(median(times) * 100) / 100;
      log(`search ${name.padEnd(18)} ${String(total).padStart(6)} matches: median ${out[name]} ms`);
    }

    const { compileConditions } = await import('../src/core/conditions.ts');
    const where = compileConditions(ctx.caps, me.ds, searches[1]![1]);
    const q = sql`select count(*) from item where item.datastore_id = ${sql.lit(me.ds.id)} and ${where}`;
    const plan =
      ctx.caps.dialect === 'sqlite'
        ? await sql<{ detail: string }>`explain query plan ${q}`.execute(ctx.db)
        : await sql<{ 'QUERY PLAN': string }>`explain ${q}`.execute(ctx.db);
    log(
      'plan of "amount range 1%":\n' +
        plan.rows.map((r) => '      ' + ('detail' in r ? r.detail : r['QUERY PLAN'])).join('\n'),
    );

    const wide = {
      ...DEF,
      display_id: 'wide',
      fields: Array.from({ length: 200 }, (_, i) => ({
        display_id: `f${i}`,
        name: `F${i}`,
        type: ['text', 'number', 'date', 'select'][i % 4]!,
        ...(i % 4 === 3 ? { options: ['x'] } : {}),
      })),
    };
    const t2 = performance.now();
    await createDatastore(ctx, other.ws.id, wide);
    const createMs = performance.now() - t2;
    log(`create a 200-field datastore beside ${2 * N + restore.length} items: ${Math.round(createMs)} ms`);
    process.stdout.write(
      JSON.stringify({
        dialect: args.dialect,
        items: N,
        importPerSec: Math.round(N / (importMs / 1000)),
        updatePerSec: Math.round(N / (updateMs / 1000)),
        searchMs: out,
        createWideMs: Math.round(createMs),
      }) + '\n',
    );
    await db.opened.close();
  } finally {
    await db.cleanup();
  }
}

await main();
process.exit(0);

/**
 * `npm run bench:search`: POST items/search's reads, the one-pass way (src/core/items.ts searchItems: the page
 * first, the count only when the page is full) against the way it was (a count, then the page), in the same
 * process on the same data, alternating, so the machine's drift falls on both alike.
 *
 *   npm run bench:search                                        SQLite, and PostgreSQL when TEST_PG_URL is set
 *   npm run bench:search -- --items 5000 --rounds 9 --dialects sqlite
 *
 * Both go through the request context's reader (SQLite's reader threads, PostgreSQL's search pool), as a request
 * does. Each case checks that both ways answer the same items and total. Prints one line per case (median ms of
 * each way and new ÷ old), then the whole result as one JSON line.
 */
import { sql } from 'kysely';
import { makeCtx, requestCtx } from '../src/core/make-ctx.ts';
import { createDatastore } from '../src/core/datastores.ts';
import { compileConditions, sortExpression, type Condition } from '../src/core/conditions.ts';
import { createItems, searchItems, toItem, type Item, type SearchInput } from '../src/core/items.ts';
import { createUser } from '../src/core/users.ts';
import { createWorkspace } from '../src/core/workspaces.ts';
import type { Ctx } from '../src/core/context.ts';
import type { Datastore } from '../src/core/datastore-model.ts';
import { migrate } from '../src/db/migrate.ts';
import { openBenchDb } from './bench-db.ts';

const argv = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : fallback;
};
const ITEMS = Number(arg('--items', '20000'));
const ROUNDS = Number(arg('--rounds', '15'));
const PG_URL = process.env.TEST_PG_URL ?? process.env.DATABASE_URL;
const DIALECTS = arg('--dialects', PG_URL ? 'sqlite,postgres' : 'sqlite').split(',') as ('sqlite' | 'postgres')[];
const PER_PAGE = 20;

/** The datastore of bench/load/seed.ts: names cycle through eight words, so a word matches an eighth of the items. */
const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel'];
const DEF = {
  name: 'Load',
  display_id: 'load',
  fields: [
    { display_id: 'n', name: 'N', type: 'number' },
    { display_id: 'name', name: 'Name', type: 'text' },
    { display_id: 'cat', name: 'Category', type: 'select', options: ['a', 'b', 'c'] },
  ],
  statuses: [{ display_id: 'open', name: 'Open' }],
  actions: [],
};

const CASES: { name: string; conditions: Condition[]; sort?: 'n' }[] = [
  { name: 'text, under a page', conditions: [{ id: 'name', search_value: [`echo ${Math.floor(ITEMS / 2) + 4}`] }] },
  { name: 'text, no match', conditions: [{ id: 'name', search_value: ['zulu'] }] },
  { name: 'text, an eighth', conditions: [{ id: 'name', search_value: ['echo'] }] },
  {
    name: 'range + text (bench:load)',
    conditions: [
      { id: 'n', search_value: [5000, 7000] },
      { id: 'name', search_value: ['echo'] },
    ],
  },
  { name: 'text, sorted by n', conditions: [{ id: 'name', search_value: ['echo'] }], sort: 'n' },
  { name: 'no condition', conditions: [] },
];

/** searchItems as it was: always a count, then the page (the baseline, kept here as it read). */
async function countThenPage(ctx: Ctx, ds: Datastore, input: SearchInput): Promise<{ items: Item[]; total: number }> {
  const pred = compileConditions(ctx.caps, ds, input.conditions, false, ctx.now());
  const where = sql<boolean>`item.datastore_id = ${sql.lit(ds.id)} and ${pred}`;
  const [countRow] = await ctx.reader.read(
    ctx.db,
    ctx.db
      .selectFrom('item')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where(where)
      .compile(),
    ds.workspace_id,
  );
  let q = ctx.db.selectFrom('item').selectAll().where(where);
  for (const s of input.sort_fields ?? [])
    q = q.orderBy(sql`${sortExpression(ctx.caps, ds, s.id)} ${s.order === 'desc' ? sql`desc` : sql`asc`}`);
  const perPage = input.per_page!;
  const rows = await ctx.reader.read(
    ctx.db,
    q
      .orderBy('item.id')
      .limit(perPage)
      .offset((input.page! - 1) * perPage)
      .compile(),
    ds.workspace_id,
  );
  return { items: rows.map((r) => toItem(ctx, r)), total: Number(countRow!.n) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface CaseResult {
  dialect: string;
  name: string;
  total: number;
  oldMs: number;
  newMs: number;
  ratio: number;
}

async function runDialect(dialect: 'sqlite' | 'postgres'): Promise<CaseResult[]> {
  const db = await openBenchDb(dialect, PG_URL);
  const out: CaseResult[] = [];
  try {
    await migrate(db.opened);
    const base = makeCtx(db.opened);
    const user = await createUser(base, { name: 'bench', isSystemAdmin: true });
    const principal = { userId: user.id, name: 'bench', isSystemAdmin: true };
    const ws = await createWorkspace(base, principal, { name: 'bench' });
    const ds = await createDatastore(base, ws.id, DEF as never);
    const access = { principal, workspaceId: ws.id, projectId: null, role: 'admin' as const };
    for (let from = 0; from < ITEMS; from += 5000)
      await createItems(
        base,
        access,
        ds,
        Array.from({ length: Math.min(5000, ITEMS - from) }, (_, k) => {
          const i = from + k;
          return { title: `item ${i}`, fields: { n: i, name: `${WORDS[i % 8]} ${i}`, cat: 'abc'[i % 3] } };
        }),
      );
    if (dialect === 'postgres') await sql`analyze`.execute(base.db);
    // As a request runs: SQLite's reader threads, PostgreSQL's search pool, under the query time limit.
    const ctx = requestCtx(base, db.opened);
    for (const c of CASES) {
      const input: SearchInput = {
        conditions: c.conditions,
        per_page: PER_PAGE,
        page: 1,
        ...(c.sort ? { sort_fields: [{ id: c.sort, order: 'desc' as const }] } : {}),
      };
      const before = await countThenPage(ctx, ds, input);
      const after = await searchItems(ctx, ds, input);
      if (JSON.stringify(before) !== JSON.stringify(after))
        throw new Error(`${c.name}: the two ways answer differently`);
      const oldMs: number[] = [];
      const newMs: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        let t = performance.now();
        await countThenPage(ctx, ds, input);
        oldMs.push(performance.now() - t);
        t = performance.now();
        await searchItems(ctx, ds, input);
        newMs.push(performance.now() - t);
      }
      const res = {
        dialect,
        name: c.name,
        total: after.total,
        oldMs: median(oldMs),
        newMs: median(newMs),
        ratio: median(newMs) / median(oldMs),
      };
      out.push(res);
      console.log(
        `${dialect.padEnd(9)}${c.name.padEnd(28)}${String(res.total).padStart(7)} found  count+page ${res.oldMs.toFixed(2).padStart(7)} ms  one pass ${res.newMs.toFixed(2).padStart(7)} ms  ratio ${res.ratio.toFixed(2)}`,
      );
    }
  } finally {
    await db.opened.close();
    await db.cleanup();
  }
  return out;
}

async function main() {
  console.log(
    `bench:search: ${ITEMS} items, ${PER_PAGE} a page, median of ${ROUNDS} alternating rounds, node ${process.version}`,
  );
  const results: CaseResult[] = [];
  for (const d of DIALECTS) results.push(...(await runDialect(d)));
  console.log(JSON.stringify({ items: ITEMS, rounds: ROUNDS, results }));
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);

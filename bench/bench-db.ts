/**
 * What the bench cases share: a fresh database of their own (an SQLite file, or a PostgreSQL schema dropped
 * afterwards), and items generated inside it (recursive CTE / generate_series) so setup costs no JS memory.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import type { Ctx } from '../src/core/context.ts';
import { createDatastore } from '../src/core/datastores.ts';
import { createUser } from '../src/core/users.ts';
import { createWorkspace } from '../src/core/workspaces.ts';
import { backfillSql } from '../src/db/item-index.ts';
import { openDb, type OpenDb } from '../src/db/open-db.ts';

export interface BenchDb {
  opened: OpenDb;
  /** The PostgreSQL schema, for worker processes to open the same database. */
  schema?: string;
  cleanup(): Promise<void>;
}

export async function openBenchDb(dialect: 'sqlite' | 'postgres', pgUrl?: string): Promise<BenchDb> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'bg-bench-'));
    const opened = openDb(join(dir, 'bench.db'));
    return { opened, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const c = new pg.Client({ connectionString: pgUrl });
  await c.connect();
  await c.query(`create schema ${schema}`);
  await c.end();
  const opened = openDb(pgUrl!, { schema, poolSize: 6 });
  return {
    opened,
    schema,
    cleanup: async () => {
      const d = new pg.Client({ connectionString: pgUrl });
      await d.connect();
      await d.query(`drop schema ${schema} cascade`);
      await d.end();
    },
  };
}

/** A workspace with the `bench` datastore (open ──close──► done) and `items` open items, ids 10^18 + 1…items. */
export async function seedItems(ctx: Ctx, items: number) {
  const user = await createUser(ctx, { name: 'bench', isSystemAdmin: true });
  const principal = { userId: user.id, name: user.name, isSystemAdmin: true };
  const ws = await createWorkspace(ctx, principal, { name: 'bench' });
  const ds = await createDatastore(ctx, ws.id, {
    name: 'bench',
    display_id: 'bench',
    fields: [{ display_id: 'n', name: 'n', type: 'number' }],
    statuses: [
      { display_id: 'open', name: 'Open' },
      { display_id: 'done', name: 'Done' },
    ],
    actions: [{ display_id: 'close', name: 'Close', from: ['open'], to: 'done' }],
  });
  const open = ds.statuses[0]!.id;
  const now = Date.now();
  const series =
    ctx.caps.dialect === 'sqlite'
      ? sql`with recursive s(i) as (select 1 union all select i + 1 from s where i < ${items}) select i from s`
      : sql`select i from generate_series(1, ${items}) as i`;
  const fields = ctx.caps.dialect === 'sqlite' ? sql`json_object('n', i)` : sql`jsonb_build_object('n', i)`;
  await sql`insert into item (id, workspace_id, datastore_id, title, status_id, fields, rev_no, created_at, created_by, updated_at, updated_by)
    select ${benchItemId(ctx, sql`i`)}, ${ws.id}, ${ds.id}, 'item ' || i, ${open}, ${fields}, 1, ${now}, ${user.id}, ${now}, ${user.id} from (${series}) t`.execute(
    ctx.db,
  );
  // Items written in SQL get their typed index rows the way the migration gives existing items theirs.
  for (const statement of backfillSql(ctx.caps.dialect)) await sql.raw(statement).execute(ctx.db);
  if (ctx.caps.dialect === 'postgres') await sql`analyze item`.execute(ctx.db);
  return { actor: { principal, workspaceId: ws.id, role: 'admin' as const }, ds, userId: user.id, workspaceId: ws.id };
}

/** The id seedItems gives item number `i` (1-based), as SQL. */
function benchItemId(ctx: Ctx, i: ReturnType<typeof sql>) {
  return ctx.caps.dialect === 'sqlite'
    ? sql`printf('%019d', 1000000000000000000 + ${i})`
    : sql`lpad((1000000000000000000 + ${i})::text, 19, '0')`;
}

/** The id seedItems gives item number `i` (1-based). */
export const itemIdOf = (i: number) => String(1_000_000_000_000_000_000n + BigInt(i));

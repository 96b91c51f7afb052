import { randomBytes } from 'node:crypto';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { sql } from 'kysely';
import pino, { type Logger } from 'pino';
import { findBatch, type Batch } from '../../src/engine/batches.ts';
import { TERMINAL } from '../../src/core/states.ts';
import { runChunk } from '../../src/engine/run-chunk.ts';
import { claimChunk } from '../../src/engine/sql/claim-chunk.ts';
import { PG_URL } from '../helpers/db.ts';
import type { TestService } from '../helpers/service.ts';

/**
 * BATCHGATE_CONNECTION_SOURCES for tests (closed by default otherwise): the temporary directory sqliteSource
 * writes under, and TEST_PG_URL's host.
 */
export const TEST_CONNECTION_SOURCES: readonly string[] = Object.freeze([
  realpathSync(tmpdir()),
  ...(PG_URL ? [new URL(PG_URL).hostname] : []),
]);

/** A random 32-byte BATCHGATE_SECRET_KEY. */
export const newSecretKey = (): Buffer => randomBytes(32);

/** Everything logged, as text: pino at trace level into an array. */
export function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: pino({ level: 'trace' }, stream), lines };
}

const pad = (i: number) => String(i).padStart(3, '0');

/** The columns every SQLite source table t{i} has (every 7th has a two-column key instead of `id`). */
export function sqliteTableSql(i: number): string {
  if (i % 7 === 0) return `create table "t${pad(i)}" (a integer not null, b text not null, v real, primary key (a, b))`;
  return `create table "t${pad(i)}" (id integer primary key, name varchar(64) not null, amount decimal(10,2), created_at timestamp, flag boolean, payload blob, note text)`;
}

/** A real SQLite database file with `n` tables t000…, removed by `close`. */
export function sqliteSource(n: number): { path: string; dir: string; exec(sql: string): void; close(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'bg-src-'));
  const path = join(dir, 'source.db');
  const db = new SqliteDatabase(path);
  db.exec(Array.from({ length: n }, (_, i) => `${sqliteTableSql(i)};`).join('\n'));
  db.close();
  return {
    path,
    dir,
    exec(sql: string) {
      const h = new SqliteDatabase(path);
      h.exec(sql);
      h.close();
    },
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The statements of PostgreSQL source table p{i}, with comments on some tables and columns. */
export function pgTableSql(schema: string, i: number): string {
  const t = `"${schema}"."p${pad(i)}"`;
  const out = [
    `create table ${t} (id bigint primary key, code character varying(32) not null, amount numeric(12,2), happened timestamp with time zone, tags text[], flag boolean)`,
  ];
  if (i % 2 === 0) out.push(`comment on table ${t} is 'table p${pad(i)}, it''s commented'`);
  if (i % 3 === 0) out.push(`comment on column ${t}.code is 'business code'`);
  return out.join(';\n');
}

/** A schema of our own in the test PostgreSQL database, with `n` tables p000…; dropped by `drop`. */
export async function pgSource(
  n: number,
): Promise<{ schema: string; exec(sql: string): Promise<void>; drop(): Promise<void> }> {
  const schema = `src_${randomBytes(5).toString('hex')}`;
  const exec = async (sql: string) => {
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await exec(
    `create schema ${schema};\n${Array.from({ length: n }, (_, i) => `${pgTableSql(schema, i)};`).join('\n')}`,
  );
  return { schema, exec, drop: () => exec(`drop schema if exists ${schema} cascade`) };
}

/** PG_URL with a password in it: the test server trusts local connections, so any password connects. */
export function pgUrlWithPassword(password: string): string {
  const u = new URL(PG_URL);
  u.password = password;
  return u.toString();
}

/**
 * Runs a batch's chunks in this process through the engine's own chunk code, as a worker would. With
 * `slices`, stops (releasing the chunk) after that many committed slices.
 */
export async function drive(s: TestService, batchId: string, opts: { slices?: number } = {}): Promise<Batch> {
  let done = 0;
  const runner = {
    ctx: s.engine.ctx,
    owner: `test:${batchId}`,
    leaseMs: 30_000,
    stopping: () => opts.slices !== undefined && done >= opts.slices,
    sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, Math.min(ms, 50))),
    onProgress: () => {
      done++;
    },
  };
  for (;;) {
    const b = (await findBatch(s.engine.ctx, batchId))!;
    if (TERMINAL.includes(b.state) || runner.stopping()) return b;
    const chunk = await claimChunk(s.engine.ctx, runner.owner, runner.leaseMs, { batchId });
    if (!chunk) {
      const again = (await findBatch(s.engine.ctx, batchId))!;
      if (TERMINAL.includes(again.state)) return again;
      throw new Error(`no chunk to claim for batch ${batchId} in state ${again.state}`);
    }
    await runChunk(runner, chunk);
  }
}

/** A model's TABLE_MODEL entities by table name (title), read straight from the database. */
export async function tableModelsOf(
  s: TestService,
  ws: string,
  modelId: string,
): Promise<Map<string, { id: string; rev: number; info: any }>> {
  const { db, caps } = s.db.ctx;
  const rows = await db
    .selectFrom('item')
    .innerJoin('datastore', 'datastore.id', 'item.datastore_id')
    .select(['item.id', 'item.title', 'item.fields', 'item.rev_no'])
    .where('datastore.workspace_id', '=', ws)
    .where('datastore.display_id', '=', 'TABLE_MODEL')
    .where(sql<boolean>`${caps.jsonPathText('item.fields', ['biz_info', 'model_id'])} = ${modelId}`)
    .execute();
  return new Map(rows.map((r) => [r.title, { id: r.id, rev: r.rev_no, info: caps.readJson<any>(r.fields).biz_info }]));
}

import pg from 'pg';
import { realPath, type SourcePlace } from '../source-policy.ts';
import { displayPostgresTarget, parsePostgresUrl, type PostgresTarget, type SslMode } from './postgres-url.ts';
import {
  asSourceError,
  SourceError,
  type SourceDb,
  type SourceDialect,
  type SourceTable,
  type SourceTarget,
} from './types.ts';

/**
 * Timeouts of a source connection: reading a catalog takes milliseconds, so a source that has not answered in
 * 10 s is down, and a catalog query over 15 s is stuck. Together (25 s) they stay under the engine's 30 s chunk
 * lease, renewed just before a reverse slice reads its source.
 */
const CONNECT_TIMEOUT_MS = 10_000;
const STATEMENT_TIMEOUT_MS = 15_000;

/** pg's TLS options for a libpq sslmode; no file is ever read (the server's default CAs verify). */
function sslOf(mode: SslMode | null): pg.ClientConfig['ssl'] {
  switch (mode) {
    case null:
    case 'disable':
      return false;
    case 'require':
      return { rejectUnauthorized: false };
    case 'verify-ca':
      return { checkServerIdentity: () => undefined };
    case 'verify-full':
      return {};
  }
}

/** The driver's configuration, every field from the parsed target so that nothing comes from PG* or ~/.pgpass. */
export function pgClientConfig(t: PostgresTarget): pg.ClientConfig {
  return {
    host: t.host,
    port: t.port,
    database: t.database,
    user: t.user,
    // A function: an empty string would make pg fall back to PGPASSWORD and then ~/.pgpass.
    password: () => t.password ?? '',
    ssl: sslOf(t.sslmode),
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    query_timeout: STATEMENT_TIMEOUT_MS + 5000,
    application_name: 'batchgate reverse',
  };
}

/** PostgreSQL: `postgres://` or `postgresql://` URLs; tables and comments from pg_catalog in one schema. */
export const postgresSource: SourceDialect = Object.freeze({
  dialect: 'postgres' as const,
  defaultSchema: 'public',
  parse(raw: string): SourceTarget | null {
    const parsed = parsePostgresUrl(raw);
    if (!parsed) return null;
    // A socket directory is a place on disk: checked, and connected to, after its symlinks are resolved.
    const target = parsed.host.startsWith('/') ? { ...parsed, host: realPath(parsed.host) } : parsed;
    const place: SourcePlace = target.host.startsWith('/')
      ? { kind: 'socket', dir: target.host, port: target.port, database: target.database }
      : { kind: 'host', host: target.host, port: target.port, database: target.database };
    return { place, display: displayPostgresTarget(target), open: (schema) => openPostgres(target, schema) };
  },
});

async function openPostgres(target: PostgresTarget, schema: string | null): Promise<SourceDb> {
  const nsp = schema ?? 'public';
  const secrets = target.password ? [target.password] : [];
  const client = new pg.Client(pgClientConfig(target));
  // A connection dropped between queries is reported by the next query; unheard, the event would crash us.
  client.on('error', () => {});
  await asSourceError('cannot connect to the PostgreSQL database', secrets, () => client.connect());
  const query = <R extends pg.QueryResultRow>(text: string, values: unknown[]) =>
    asSourceError('cannot read the PostgreSQL catalog', secrets, () => client.query<R>(text, values));
  try {
    const found = await query('select 1 from pg_namespace where nspname = $1', [nsp]);
    if (found.rowCount === 0) throw new SourceError(`schema "${nsp}" does not exist in the PostgreSQL database`);
  } catch (e) {
    await client.end().catch(() => {});
    throw e;
  }
  return {
    async listTables() {
      const r = await query<{ name: string }>(
        `select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where n.nspname = $1 and c.relkind in ('r', 'p') order by c.relname collate "C"`,
        [nsp],
      );
      return r.rows.map((x) => x.name);
    },
    async readTables(names) {
      const out = new Map<string, SourceTable>();
      if (names.length === 0) return out;
      // A schema dropped since open makes every table absent, not a SQL error: say so instead.
      const still = await query('select 1 from pg_namespace where nspname = $1', [nsp]);
      if (still.rowCount === 0) throw new SourceError(`schema "${nsp}" no longer exists in the PostgreSQL database`);
      const r = await query<{
        table_name: string;
        table_comment: string | null;
        name: string | null;
        data_type: string | null;
        not_null: boolean | null;
        description: string | null;
        is_pk: boolean | null;
      }>(
        `select c.relname as table_name, obj_description(c.oid, 'pg_class') as table_comment,
                a.attname as name, format_type(a.atttypid, a.atttypmod) as data_type, a.attnotnull as not_null,
                col_description(c.oid, a.attnum) as description,
                coalesce(a.attnum = any(pk.indkey), false) as is_pk
         from pg_class c
         join pg_namespace n on n.oid = c.relnamespace
         left join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
         left join pg_index pk on pk.indrelid = c.oid and pk.indisprimary
         where n.nspname = $1 and c.relname = any($2::text[]) and c.relkind in ('r', 'p')
         order by c.relname, a.attnum`,
        [nsp, [...names]],
      );
      for (const row of r.rows) {
        let t = out.get(row.table_name);
        if (!t) out.set(row.table_name, (t = { name: row.table_name, description: row.table_comment, columns: [] }));
        if (row.name === null) continue;
        t.columns.push({
          name: row.name,
          data_type: row.data_type!,
          not_null: row.not_null === true || row.is_pk === true,
          is_primary_key: row.is_pk === true,
          // Positions without the gaps dropped columns leave in attnum.
          ordinal: t.columns.length + 1,
          description: row.description,
        });
      }
      return out;
    },
    async close() {
      await client.end().catch(() => {});
    },
  };
}

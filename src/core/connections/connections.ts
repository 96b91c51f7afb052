import type { Dialect } from '../../db/capabilities.ts';
import type { DataConnectionRow } from '../../db/schema.ts';
import { fail } from '../../errors.ts';
import { requireCapability, type Access } from '../auth.ts';
import type { Ctx } from '../context.ts';
import { parseSourceUrl, sourceDialect } from './introspect/index.ts';
import { SourceError, type SourceDb } from './introspect/types.ts';
import { requireSourceAllowed, requireSourcesListed } from './source-policy.ts';
import { open as openSecret, seal } from './secret-box.ts';

/** A registered source database as shown: `url` is its effective target (user, host, port, database, sslmode; the password masked). */
export interface Connection {
  id: string;
  workspace_id: string;
  name: string;
  dialect: Dialect;
  url: string;
  schema: string | null;
  created_by: string;
  created_at: number;
}

export interface ConnectionInput {
  name: string;
  url: string;
  schema?: string | undefined;
}

function toConnection(row: DataConnectionRow): Connection {
  return {
    id: row.id,
    workspace_id: row.workspace_id,
    name: row.name,
    dialect: row.dialect as Dialect,
    url: row.display_url,
    schema: row.schema_name,
    created_by: row.created_by,
    created_at: row.created_at,
  };
}

/** The additional data a connection's secret is sealed with: it decrypts on its own row only. */
const aadOf = (row: { workspace_id: string; id: string }) => `data_connection:${row.workspace_id}:${row.id}`;

/** A source error as the catalog's CONNECTION_FAILED (its text is already free of the URL and password). */
export async function throughSource<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof SourceError) fail('CONNECTION_FAILED', e.message);
    throw e;
  }
}

/**
 * Registers a source database (workspace admins). The URL is read into its target, which must be on
 * BATCHGATE_CONNECTION_SOURCES and not the service's own database, then checked by connecting and listing its
 * tables, so a typo fails now, and stored only encrypted. Without BATCHGATE_SECRET_KEY nothing is attempted.
 */
export async function createConnection(ctx: Ctx, access: Access, input: ConnectionInput): Promise<Connection> {
  requireCapability(access, 'manage');
  requireSourcesListed(ctx);
  if (!ctx.settings.secretKey)
    fail('SECRET_KEY_UNAVAILABLE', 'BATCHGATE_SECRET_KEY is not set: a data connection cannot be stored without it.');
  const url = input.url.trim();
  const { source, target } = parseSourceUrl(url);
  if (source.defaultSchema === null && input.schema !== undefined)
    fail('VALIDATION_FAILED', `A ${source.dialect} connection has no schema to choose.`);
  const schema = source.defaultSchema === null ? null : (input.schema ?? source.defaultSchema);
  requireSourceAllowed(ctx.settings.connectionSources, ctx.ownDatabase, target.place, schema);
  const taken = await ctx.db
    .selectFrom('data_connection')
    .select('id')
    .where('workspace_id', '=', access.workspaceId)
    .where('name', '=', input.name)
    .executeTakeFirst();
  if (taken) fail('DUPLICATE', `A data connection named "${input.name}" already exists in this workspace.`);
  await throughSource(async () => {
    const db = await target.open(schema);
    try {
      await db.listTables();
    } finally {
      await db.close();
    }
  });
  const id = ctx.ids.next();
  const row: DataConnectionRow = {
    id,
    workspace_id: access.workspaceId,
    name: input.name,
    dialect: source.dialect,
    display_url: target.display,
    schema_name: schema,
    secret: seal(ctx.settings.secretKey, url, aadOf({ workspace_id: access.workspaceId, id })),
    created_by: access.principal.userId,
    created_at: ctx.now(),
  };
  try {
    await ctx.db.insertInto('data_connection').values(row).execute();
  } catch (e) {
    // Two registrations of one name raced past the check: the unique index decided.
    const again = await ctx.db
      .selectFrom('data_connection')
      .select('id')
      .where('workspace_id', '=', access.workspaceId)
      .where('name', '=', input.name)
      .executeTakeFirst();
    if (again) fail('DUPLICATE', `A data connection named "${input.name}" already exists in this workspace.`);
    throw e;
  }
  return toConnection(row);
}

async function connectionRow(ctx: Ctx, workspaceId: string, id: string): Promise<DataConnectionRow> {
  const row = await ctx.db
    .selectFrom('data_connection')
    .selectAll()
    .where('id', '=', id)
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirst();
  if (!row) fail('CONNECTION_NOT_FOUND', `No data connection ${id} in this workspace.`);
  return row;
}

export async function listConnections(ctx: Ctx, access: Access): Promise<Connection[]> {
  requireCapability(access, 'manage');
  const rows = await ctx.db
    .selectFrom('data_connection')
    .selectAll()
    .where('workspace_id', '=', access.workspaceId)
    .orderBy('id')
    .execute();
  return rows.map(toConnection);
}

export async function getConnection(ctx: Ctx, access: Access, id: string): Promise<Connection> {
  requireCapability(access, 'manage');
  return toConnection(await connectionRow(ctx, access.workspaceId, id));
}

export async function deleteConnection(ctx: Ctx, access: Access, id: string): Promise<void> {
  requireCapability(access, 'manage');
  const res = await ctx.db
    .deleteFrom('data_connection')
    .where('id', '=', id)
    .where('workspace_id', '=', access.workspaceId)
    .executeTakeFirst();
  if (Number(res.numDeletedRows) !== 1) fail('CONNECTION_NOT_FOUND', `No data connection ${id} in this workspace.`);
}

/**
 * Opens a workspace's connection for reading: decrypts its URL (SECRET_KEY_UNAVAILABLE without the key it was
 * stored under) and connects (a SourceError when the database cannot be reached). The caller closes it.
 */
export async function openConnection(
  ctx: Ctx,
  workspaceId: string,
  id: string,
): Promise<{ connection: Connection; db: SourceDb }> {
  const row = await connectionRow(ctx, workspaceId, id);
  // Closed by default: with no list, nothing is decrypted, parsed or opened.
  requireSourcesListed(ctx);
  const url = openSecret(ctx.settings.secretKey, row.secret, aadOf(row));
  // Parsed again as at registration: a URL stored before a parameter was refused is refused now.
  const target =
    sourceDialect(row.dialect).parse(url) ??
    fail('INTERNAL', `The stored URL of connection ${row.id} is not a ${row.dialect} URL.`);
  requireSourceAllowed(ctx.settings.connectionSources, ctx.ownDatabase, target.place, row.schema_name);
  const db = await target.open(row.schema_name);
  return { connection: toConnection(row), db };
}

/** The tables a connection's database has now, in code-point order (workspace admins). */
export async function listConnectionTables(ctx: Ctx, access: Access, id: string): Promise<string[]> {
  requireCapability(access, 'manage');
  return throughSource(async () => {
    const { db } = await openConnection(ctx, access.workspaceId, id);
    try {
      return await db.listTables();
    } finally {
      await db.close();
    }
  });
}

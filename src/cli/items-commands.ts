import { extname } from 'node:path';
import type { Command } from 'commander';
import type { Conditions, Datastore } from './api-types.ts';
import { clientCommand, connect, type ClientOpts, type Connection } from './connection.ts';
import { usage } from './exit.ts';
import { exportItems } from './items-export.ts';
import { importItems, type ImportFormat } from './items-import.ts';
import { printJson, printLine } from './output.ts';
import { parseJsonArray, parsePositive } from './parse-args.ts';
import { ok } from './request.ts';

function formatOf(path: string, given: string | undefined): ImportFormat {
  const f = given ?? (extname(path).toLowerCase() === '.csv' ? 'csv' : 'ndjson');
  if (f !== 'csv' && f !== 'ndjson') usage(`--format must be csv or ndjson, got ${JSON.stringify(f)}`);
  return f;
}

async function getDatastore(conn: Connection, ds: string): Promise<Datastore> {
  return ok(conn.api.GET('/api/v1/workspaces/{ws}/datastores/{ds}', { params: { path: { ws: conn.ws, ds } } }));
}

export function registerItemCommands(program: Command): void {
  const items = program.command('items').description("Bulk import and export of a datastore's items");

  clientCommand(
    items
      .command('import')
      .description(
        'Import items from CSV (a header row of title, status and field display_ids) or NDJSON ({title, status, fields} per line)',
      )
      .argument('<datastore>', 'datastore id or display_id')
      .argument('<file>', 'the file, or - for stdin')
      .option('--format <format>', 'csv or ndjson (default: from the file extension, else ndjson)')
      .option('--batch-size <n>', 'items per request (at most 1000)', '1000'),
  ).action(async (dsKey: string, file: string, o: ClientOpts & { format?: string; batchSize: string }) => {
    const format = formatOf(file, o.format);
    const batchSize = Math.floor(parsePositive('--batch-size', o.batchSize));
    if (batchSize > 1000) usage('--batch-size is at most 1000');
    const conn = connect(o);
    const ds = await getDatastore(conn, dsKey);
    const ids = await importItems(conn, ds, { path: file, format, batchSize });
    if (conn.json) printJson({ imported: ids.length, datastore: ds.display_id, ids });
    else printLine(`imported ${ids.length} item(s) into ${ds.display_id}`);
  });

  clientCommand(
    items
      .command('export')
      .description('Export items as NDJSON (one item per line) or CSV, paged through search')
      .argument('<datastore>', 'datastore id or display_id')
      .option('-o, --output <file>', 'write here instead of stdout')
      .option('--format <format>', "ndjson or csv (default: from --output's extension, else ndjson)")
      .option('--where <json>', 'only items matching these conditions (JSON array)')
      .option('--or', 'match any condition instead of all')
      .option('--per-page <n>', 'items per request (at most 1000)', '1000'),
  ).action(
    async (
      dsKey: string,
      o: ClientOpts & { output?: string; format?: string; where?: string; or?: boolean; perPage: string },
    ) => {
      const path = o.output ?? '-';
      const format = formatOf(path, o.format);
      const perPage = Math.min(1000, Math.floor(parsePositive('--per-page', o.perPage)));
      const conn = connect(o);
      const ds = await getDatastore(conn, dsKey);
      const n = await exportItems(conn, ds, {
        path,
        format,
        perPage,
        ...(o.where ? { where: parseJsonArray('--where', o.where) as Conditions } : {}),
        ...(o.or ? { or: true } : {}),
      });
      if (path === '-') process.stderr.write(`exported ${n} item(s) from ${ds.display_id}\n`);
      else if (conn.json) printJson({ exported: n, datastore: ds.display_id, file: path, format });
      else printLine(`exported ${n} item(s) from ${ds.display_id} to ${path}`);
    },
  );
}

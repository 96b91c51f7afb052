import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Datastore, ItemInput } from './api-types.ts';
import type { Connection } from './connection.ts';
import { CliError, EXIT, usage } from './exit.ts';
import { csvRows } from './csv.ts';
import { cellToValue } from './item-values.ts';
import { startProgress } from './progress.ts';
import { ok } from './request.ts';

export type ImportFormat = 'csv' | 'ndjson';

/** What an exported item carries besides title, status and fields: ignored on import, so export → import round-trips. */
const EXPORTED_ONLY = new Set([
  'id',
  'datastore_id',
  'status_id',
  'status_name',
  'rev_no',
  'created_at',
  'created_by',
  'updated_at',
  'updated_by',
  'history',
]);

export interface ImportInput {
  path: string;
  format: ImportFormat;
  batchSize: number;
}

interface Source {
  /** Read either lines or chunks, not both. */
  lines: () => AsyncIterable<string>;
  chunks: AsyncIterable<string>;
  bytesRead: () => number;
  size: number | null;
}

function open(path: string): Source {
  let size: number | null = null;
  if (path !== '-') {
    try {
      size = statSync(path).size;
    } catch (e) {
      usage(`cannot read ${path}: ${(e as Error).message}`);
    }
  }
  const stream: Readable = path === '-' ? process.stdin : createReadStream(path);
  stream.setEncoding('utf8');
  let bytes = 0;
  stream.on('data', (s: string) => (bytes += Buffer.byteLength(s)));
  return {
    lines: () => createInterface({ input: stream, crlfDelay: Infinity }),
    chunks: stream,
    bytesRead: () => bytes,
    size,
  };
}

async function* csvItems(src: Source, ds: Datastore): AsyncGenerator<ItemInput> {
  const fields = new Map(ds.fields.map((f) => [f.display_id, f]));
  let header: string[] | null = null;
  let line = 0;
  for await (const row of csvRows(src.chunks)) {
    line++;
    if (!header) {
      header = row.map((h) => h.trim().replace(/^\uFEFF/, ''));
      const unknown = header.filter((h) => h !== 'title' && h !== 'status' && !fields.has(h) && !EXPORTED_ONLY.has(h));
      if (unknown.length)
        usage(
          `CSV header: unknown column(s) ${unknown.join(', ')}; columns are title, status, or field display_ids (${[...fields.keys()].join(', ')})`,
        );
      continue;
    }
    const item: ItemInput = {};
    const values: Record<string, unknown> = {};
    header.forEach((h, i) => {
      const cell = row[i] ?? '';
      if (h === 'title') {
        if (cell !== '') item.title = cell;
      } else if (h === 'status') {
        if (cell !== '') item.status = cell;
      } else if (fields.has(h)) {
        try {
          const v = cellToValue(fields.get(h)!.type as Parameters<typeof cellToValue>[0], cell);
          if (v !== undefined) values[h] = v;
        } catch (e) {
          usage(`CSV row ${line}, column ${h}: ${(e as Error).message}`);
        }
      }
    });
    if (Object.keys(values).length) item.fields = values;
    yield item;
  }
}

async function* ndjsonItems(src: Source): AsyncGenerator<ItemInput> {
  let line = 0;
  for await (const text of src.lines()) {
    line++;
    if (!text.trim()) continue;
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      usage(`line ${line}: not JSON: ${(e as Error).message}`);
    }
    if (!v || typeof v !== 'object' || Array.isArray(v)) usage(`line ${line}: not a JSON object`);
    const o = v as Record<string, unknown>;
    const unknown = Object.keys(o).filter(
      (k) => k !== 'title' && k !== 'status' && k !== 'fields' && !EXPORTED_ONLY.has(k),
    );
    if (unknown.length)
      usage(`line ${line}: unknown key(s) ${unknown.join(', ')}; an item is {title?, status?, fields?}`);
    const item: ItemInput = {};
    if (o.title !== undefined) item.title = o.title as string;
    if (o.status !== undefined) item.status = o.status as string;
    if (o.fields !== undefined) item.fields = o.fields as Record<string, unknown>;
    yield item;
  }
}

/** Streams a CSV or NDJSON file into a datastore in requests of at most `batchSize` items; answers the new ids. */
export async function importItems(conn: Connection, ds: Datastore, input: ImportInput): Promise<string[]> {
  const src = open(input.path);
  const rows = input.format === 'csv' ? csvItems(src, ds) : ndjsonItems(src);
  const ids: string[] = [];
  const bar = startProgress({
    tty: src.size ? 'import {bar} {percentage}% | {imported} items | ETA {eta_formatted}' : 'import {imported} items',
    plain: 'import: {imported} items imported',
    total: src.size ?? 1,
    payload: { imported: 0 },
    intervalMs: 2000,
    silent: conn.json && !process.stderr.isTTY,
  });
  let chunk: ItemInput[] = [];
  const flush = async () => {
    if (!chunk.length) return;
    try {
      const res = await ok(
        conn.api.POST('/api/v1/workspaces/{ws}/datastores/{ds}/items', {
          params: { path: { ws: conn.ws, ds: ds.id } },
          body: { items: chunk },
        }),
      );
      if (!('ids' in res)) throw new CliError('the service answered a bulk import without ids');
      ids.push(...res.ids);
    } catch (e) {
      const first = ids.length + 1;
      throw new CliError(
        `items ${first}-${first + chunk.length - 1} were refused (${ids.length} imported before them): ${(e as Error).message}`,
        EXIT.usage,
      );
    }
    chunk = [];
    bar.update(src.size ? Math.min(src.bytesRead(), src.size) : 0, { imported: ids.length });
  };
  try {
    for await (const item of rows) {
      chunk.push(item);
      if (chunk.length >= input.batchSize) await flush();
    }
    await flush();
    bar.update(src.size ?? 1, { imported: ids.length });
  } finally {
    bar.stop();
  }
  return ids;
}

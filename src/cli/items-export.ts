import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Conditions, Datastore, Item } from './api-types.ts';
import type { Connection } from './connection.ts';
import { csvLine } from './csv.ts';
import { valueToCell } from './item-values.ts';
import { startProgress } from './progress.ts';
import { ok } from './request.ts';

export interface ExportInput {
  /** A file, or `-` for stdout. */
  path: string;
  format: 'csv' | 'ndjson';
  where?: Conditions;
  or?: boolean;
  perPage: number;
}

async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

/** Pages through the datastore's search and writes every matching item as NDJSON or CSV; answers the count. */
export async function exportItems(conn: Connection, ds: Datastore, input: ExportInput): Promise<number> {
  const toStdout = input.path === '-';
  const out: Writable = toStdout ? process.stdout : createWriteStream(input.path);
  const types = ds.fields.map((f) => [f.display_id, f.type as Parameters<typeof valueToCell>[0]] as const);
  const line =
    input.format === 'csv'
      ? (i: Item) => csvLine([i.id, i.title, i.status, ...types.map(([k, t]) => valueToCell(t, i.fields[k]))])
      : (i: Item) => JSON.stringify(i) + '\n';
  if (input.format === 'csv') await write(out, csvLine(['id', 'title', 'status', ...types.map(([k]) => k)]));
  let bar: ReturnType<typeof startProgress> | null = null;
  const progress = (total: number) =>
    startProgress({
      tty: 'export {bar} {percentage}% | {value}/{total} items | ETA {eta_formatted}',
      plain: 'export: {value}/{total} items',
      total,
      payload: {},
      intervalMs: 2000,
      // Progress on a terminal only when it does not share it with the data.
      silent: (toStdout && process.stdout.isTTY) || (conn.json && !process.stderr.isTTY),
    });
  let n = 0;
  try {
    for (let page = 1; ; page++) {
      const res = await ok(
        conn.api.POST('/api/v1/workspaces/{ws}/datastores/{ds}/items/search', {
          params: { path: { ws: conn.ws, ds: ds.id } },
          body: {
            ...(input.where ? { conditions: input.where } : {}),
            use_or_condition: input.or === true,
            page,
            per_page: input.perPage,
          },
        }),
      );
      bar ??= progress(res.total);
      for (const item of res.items) await write(out, line(item));
      n += res.items.length;
      bar.update(n);
      if (res.items.length < input.perPage || n >= res.total) break;
    }
  } finally {
    bar?.stop();
    if (!toStdout) {
      out.end();
      await once(out, 'finish');
    }
  }
  return n;
}

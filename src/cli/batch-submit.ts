import { Argument, type Command } from 'commander';
import type { Conditions, SubmitBody } from './api-types.ts';
import { clientCommand, connect, type ClientOpts, type Connection } from './connection.ts';
import { EXIT, exitCodeForState, usage } from './exit.ts';
import { readIdsFile } from './ids-file.ts';
import { printJson, printLine } from './output.ts';
import { parseJsonArray, parseJsonObject, parsePositive, parsePriority, parseStartAt } from './parse-args.ts';
import { ok } from './request.ts';
import { summary, watchBatch } from './watch.ts';

export const OPERATIONS = ['action', 'approve', 'reject', 'withdraw', 'update'] as const;

interface SubmitOpts extends ClientOpts {
  action?: string;
  idsFile?: string;
  ids?: string;
  datastore?: string;
  where?: string;
  or?: boolean;
  limit?: string;
  fields?: string;
  comment?: string;
  dryRun?: boolean;
  startAt?: string;
  maxRate?: string;
  /** Commander's `--no-notify`: false when given. */
  notify: boolean;
  priority?: string;
  idempotencyKey?: string;
  watch?: boolean;
  interval: string;
}

/** `--watch` and `--interval`, shared by the commands that can follow a batch. */
export function watchOptions(cmd: Command): Command {
  return cmd
    .option(
      '--watch',
      'follow the batch to its end: a progress bar on a TTY, periodic lines otherwise; exit 1 on item failures',
    )
    .option('--interval <seconds>', 'seconds between progress lines when not on a TTY', '2');
}

/** Follows the batch if asked, prints it (or its summary), and answers the exit code. */
export async function finishBatch(
  conn: Connection,
  batch: Parameters<typeof summary>[0],
  opts: { watch?: boolean; interval: string },
): Promise<number> {
  if (opts.watch) {
    const final = await watchBatch(conn, batch.id, { intervalMs: parsePositive('--interval', opts.interval) * 1000 });
    if (conn.json) printJson(final);
    return exitCodeForState(final.state);
  }
  if (conn.json) printJson(batch);
  else printLine(summary(batch));
  return EXIT.ok;
}

async function targetOf(o: SubmitOpts): Promise<SubmitBody['target']> {
  const byIds = o.idsFile !== undefined || o.ids !== undefined;
  if (byIds && o.datastore)
    usage('give targets either as ids (--ids-file, --ids) or as --datastore with --where, not both');
  if (byIds) {
    const ids = [
      ...(o.idsFile !== undefined ? await readIdsFile(o.idsFile) : []),
      ...(o.ids
        ? o.ids
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : []),
    ];
    return { ids };
  }
  if (!o.datastore)
    usage(o.where ? '--where needs --datastore' : 'no targets: give --ids-file, --ids, or --datastore (with --where)');
  return {
    datastore: o.datastore,
    ...(o.where ? { conditions: parseJsonArray('--where', o.where) as Conditions } : {}),
    ...(o.or ? { use_or_condition: true } : {}),
    ...(o.limit !== undefined ? { limit: Math.floor(parsePositive('--limit', o.limit)) } : {}),
  };
}

export function registerBatchSubmit(batch: Command): void {
  const cmd = batch
    .command('submit')
    .description('Submit a bulk operation; targets are frozen now and run by workers')
    .addArgument(new Argument('<operation>', 'what to do').choices(OPERATIONS))
    .option('--action <action>', 'the action to run (operation "action")')
    .option('--ids-file <file>', 'target ids, one per line ("-" reads stdin)')
    .option('--ids <ids>', 'target ids, comma-separated')
    .option('--datastore <ds>', 'target the items of this datastore (id or display_id) matching --where')
    .option(
      '--where <json>',
      'conditions (JSON array, Hexabase search language), e.g. \'[{"id":"status","search_value":["draft"]}]\'',
    )
    .option('--or', 'match any condition instead of all')
    .option('--limit <n>', 'at most this many matching items, in id order')
    .option('--fields <json>', 'field values to set (JSON object keyed by field display_id)')
    .option('--comment <text>', "comment recorded in each item's history")
    .option('--dry-run', 'run every per-item check, write nothing')
    .option('--start-at <time>', 'schedule: an ISO date-time or +<n>s|m|h|d')
    .option('--max-rate <n>', 'items per second, across all workers')
    .option('--no-notify', 'no webhook events for the tickets this batch opens or decides (batch events still go)')
    .option('--priority <n>', 'share of workers among running batches, 1-100 (default 10)')
    .option('--idempotency-key <key>', 'the same key and body return the same batch');
  watchOptions(clientCommand(cmd)).action(async (operation: (typeof OPERATIONS)[number], o: SubmitOpts) => {
    if (operation === 'action' && !o.action) usage('operation "action" needs --action');
    if (operation === 'update' && !o.fields) usage('operation "update" needs --fields');
    const target = await targetOf(o);
    const conn = connect(o);
    const body: SubmitBody = {
      operation,
      target,
      ...(o.action ? { action: o.action } : {}),
      ...(o.fields ? { fields: parseJsonObject('--fields', o.fields) } : {}),
      ...(o.comment !== undefined ? { comment: o.comment } : {}),
      ...(o.dryRun ? { dry_run: true } : {}),
      ...(o.startAt ? { start_at: parseStartAt(o.startAt) } : {}),
      ...(o.maxRate ? { max_rate: parsePositive('--max-rate', o.maxRate) } : {}),
      ...(o.notify === false ? { notify: false } : {}),
      ...(o.priority !== undefined ? { priority: parsePriority('--priority', o.priority) } : {}),
    };
    const batch = await ok(
      conn.api.POST('/api/v1/workspaces/{ws}/batches', {
        params: { path: { ws: conn.ws }, header: o.idempotencyKey ? { 'idempotency-key': o.idempotencyKey } : {} },
        body,
      }),
    );
    process.exitCode = await finishBatch(conn, batch, o);
  });
}

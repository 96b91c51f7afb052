import type { Command } from 'commander';
import type { paths } from '../client/index.ts';
import type { Batch, BatchItemsPage } from './api-types.ts';
import { clientCommand, connect, type ClientOpts } from './connection.ts';
import { exitCodeForState } from './exit.ts';
import { printJson, printLine, printTable } from './output.ts';
import { parsePositive, parsePriority } from './parse-args.ts';
import { ok } from './request.ts';
import { finishBatch, registerBatchSubmit, watchOptions } from './batch-submit.ts';
import { summary, watchBatch, formatSeconds } from './watch.ts';

type BatchItemsQuery = paths['/api/v1/workspaces/{ws}/batches/{id}/items']['get']['parameters']['query'];

const CONTROLS = {
  cancel: 'Cancel: items not yet run are skipped',
  pause: 'Pause: workers stop after their current slice',
  resume: 'Resume a paused batch',
  retry: 'Re-run only the failed items, in the same batch',
} as const;

function describe(b: Batch): string[] {
  return [
    summary(b),
    `  operation ${b.operation}${b.action ? ` (${b.action})` : ''}, ${(b.progress * 100).toFixed(1)}% done, ${b.pending} pending`,
    `  rate ${b.items_per_second === null ? '-' : `${b.items_per_second.toFixed(1)} items/s`}, ETA ${b.eta_seconds === null ? '-' : formatSeconds(b.eta_seconds)}, max_rate ${b.max_rate ?? 'none'}`,
    `  created ${b.created_at}, started ${b.started_at ?? '-'}, finished ${b.finished_at ?? '-'}`,
  ];
}

export function registerBatchCommands(program: Command): void {
  const batch = program.command('batch').description('Bulk operations: submit, follow and control batches');
  registerBatchSubmit(batch);

  clientCommand(
    batch.command('get').description('A batch: counts, progress, rate and ETA').argument('<id>', 'batch id'),
  ).action(async (id: string, o: ClientOpts) => {
    const conn = connect(o);
    const b = await ok(conn.api.GET('/api/v1/workspaces/{ws}/batches/{id}', { params: { path: { ws: conn.ws, id } } }));
    if (conn.json) printJson(b);
    else for (const line of describe(b)) printLine(line);
  });

  clientCommand(
    batch
      .command('list')
      .description('Batches of the workspace, newest first')
      .option('--state <state>', 'only batches in this state')
      .option('--limit <n>', 'at most this many', '50')
      .option('--before <id>', 'only batches older than this one (paging)'),
  ).action(async (o: ClientOpts & { state?: string; limit: string; before?: string }) => {
    const conn = connect(o);
    const query = {
      limit: Math.floor(parsePositive('--limit', o.limit)),
      ...(o.state ? { state: o.state } : {}),
      ...(o.before ? { before: o.before } : {}),
    };
    const { batches } = await ok(
      conn.api.GET('/api/v1/workspaces/{ws}/batches', { params: { path: { ws: conn.ws }, query } }),
    );
    if (conn.json) return printJson({ batches });
    if (!batches.length) return printLine('no batches');
    printTable([
      ['ID', 'OPERATION', 'STATE', 'TOTAL', 'OK', 'FAILED', 'SKIPPED', 'CREATED'],
      ...batches.map((b) => [
        b.id,
        b.action ? `${b.operation}:${b.action}` : b.operation,
        b.state,
        b.total,
        b.succeeded,
        b.failed,
        b.skipped,
        b.created_at,
      ]),
    ]);
  });

  clientCommand(
    batch
      .command('items')
      .description('Per-target outcomes of a batch')
      .argument('<id>', 'batch id')
      .option('--state <state>', 'pending, succeeded, failed or skipped')
      .option('--error-code <code>', 'only items that failed with this code')
      .option('--limit <n>', 'items per request (1-1000)', '1000')
      .option('--cursor <cursor>', 'start after this cursor (one page only)'),
  ).action(
    async (
      id: string,
      o: ClientOpts & {
        state?: NonNullable<BatchItemsQuery>['state'];
        errorCode?: string;
        limit: string;
        cursor?: string;
      },
    ) => {
      const conn = connect(o);
      const items: BatchItemsPage['items'] = [];
      let cursor: string | null | undefined = o.cursor;
      do {
        const query: BatchItemsQuery = {
          limit: Math.min(1000, Math.floor(parsePositive('--limit', o.limit))),
          ...(o.state ? { state: o.state } : {}),
          ...(o.errorCode ? { error_code: o.errorCode } : {}),
          ...(cursor ? { cursor } : {}),
        };
        const page: BatchItemsPage = await ok(
          conn.api.GET('/api/v1/workspaces/{ws}/batches/{id}/items', { params: { path: { ws: conn.ws, id }, query } }),
        );
        items.push(...page.items);
        cursor = o.cursor !== undefined ? null : page.next_cursor;
      } while (cursor);
      if (conn.json) return printJson({ items });
      if (!items.length) return printLine('no items');
      printTable([
        ['SEQ', 'TARGET', 'STATE', 'ERROR', 'MESSAGE'],
        ...items.map((i) => [i.seq, i.target_id, i.state, i.error_code, i.error_message]),
      ]);
    },
  );

  for (const [control, description] of Object.entries(CONTROLS) as [keyof typeof CONTROLS, string][]) {
    const cmd = clientCommand(batch.command(control).description(description).argument('<id>', 'batch id'));
    if (control === 'resume' || control === 'retry') watchOptions(cmd);
    cmd.action(async (id: string, o: ClientOpts & { watch?: boolean; interval?: string }) => {
      const conn = connect(o);
      const b = await ok(
        conn.api.POST(`/api/v1/workspaces/{ws}/batches/{id}/${control}`, {
          params: { path: { ws: conn.ws, id } },
          body: {},
        }),
      );
      process.exitCode = await finishBatch(conn, b, { watch: o.watch === true, interval: o.interval ?? '2' });
    });
  }

  clientCommand(
    batch
      .command('rethrottle')
      .description('Change max_rate (items/s) while the batch runs; "none" removes the limit')
      .argument('<id>', 'batch id')
      .argument('<rate>', 'items per second, or none'),
  ).action(async (id: string, rate: string, o: ClientOpts) => {
    const maxRate = rate === 'none' ? null : parsePositive('<rate>', rate);
    const conn = connect(o);
    const b = await ok(
      conn.api.POST('/api/v1/workspaces/{ws}/batches/{id}/rethrottle', {
        params: { path: { ws: conn.ws, id } },
        body: { max_rate: maxRate },
      }),
    );
    if (conn.json) printJson(b);
    else printLine(`batch ${b.id} ${b.state}: max_rate ${b.max_rate ?? 'none'}`);
  });

  clientCommand(
    batch
      .command('reprioritize')
      .description("Change the batch's priority (1-100, default 10): its share of workers among running batches")
      .argument('<id>', 'batch id')
      .argument('<priority>', '1 to 100'),
  ).action(async (id: string, priority: string, o: ClientOpts) => {
    const conn = connect(o);
    const b = await ok(
      conn.api.POST('/api/v1/workspaces/{ws}/batches/{id}/reprioritize', {
        params: { path: { ws: conn.ws, id } },
        body: { priority: parsePriority('<priority>', priority) },
      }),
    );
    if (conn.json) printJson(b);
    else printLine(`batch ${b.id} ${b.state}: priority ${b.priority}`);
  });

  watchOptions(
    clientCommand(
      batch
        .command('revert')
        .description(
          'Undo what a finished or cancelled batch changed, as a new batch; items changed since fail with REVERT_CONFLICT',
        )
        .argument('<id>', 'the batch to revert')
        .option('--dry-run', 'report what would be reverted and what conflicts; change nothing')
        .option('--comment <text>', "recorded in each item's history"),
    ),
  ).action(
    async (id: string, o: ClientOpts & { dryRun?: boolean; comment?: string; watch?: boolean; interval?: string }) => {
      const conn = connect(o);
      const body = {
        ...(o.dryRun ? { dry_run: true } : {}),
        ...(o.comment !== undefined ? { comment: o.comment } : {}),
      };
      const b = await ok(
        conn.api.POST('/api/v1/workspaces/{ws}/batches/{id}/revert', { params: { path: { ws: conn.ws, id } }, body }),
      );
      process.exitCode = await finishBatch(conn, b, { watch: o.watch === true, interval: o.interval ?? '2' });
    },
  );

  watchOptions(
    clientCommand(
      batch
        .command('watch')
        .description('Follow a batch to its end; exit 1 if items failed')
        .argument('<id>', 'batch id'),
    ),
  ).action(async (id: string, o: ClientOpts & { interval: string }) => {
    const conn = connect(o);
    const final = await watchBatch(conn, id, { intervalMs: parsePositive('--interval', o.interval) * 1000 });
    if (conn.json) printJson(final);
    process.exitCode = exitCodeForState(final.state);
  });
}

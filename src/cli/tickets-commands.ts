import type { Command } from 'commander';
import type { Conditions, Ticket } from './api-types.ts';
import { finishBatch, watchOptions } from './batch-submit.ts';
import { clientCommand, connect, type ClientOpts } from './connection.ts';
import { EXIT } from './exit.ts';
import { printJson, printLine, printTable } from './output.ts';
import { parseJsonArray, parsePositive } from './parse-args.ts';
import { ok } from './request.ts';
import { datastoreId, selectTickets } from './ticket-selection.ts';

interface ListOpts extends ClientOpts {
  state: string;
  assignee: string;
  submitter?: string;
  datastore?: string;
  item?: string;
  limit: string;
  offset: string;
}

interface DecideOpts extends ClientOpts {
  datastore?: string;
  where?: string;
  or?: boolean;
  comment?: string;
  check?: boolean;
  dryRun?: boolean;
  maxRate?: string;
  idempotencyKey?: string;
  watch?: boolean;
  interval: string;
}

export function registerTicketCommands(program: Command): void {
  const tickets = program.command('tickets').description('Approval tickets: list them, decide many as one batch');

  clientCommand(
    tickets
      .command('list')
      .description('Tickets; by default my pending ones')
      .option('--state <state>', 'pending, approved, rejected, withdrawn, closed or any', 'pending')
      .option('--assignee <who>', 'me, a user id, or any', 'me')
      .option('--submitter <who>', 'me or a user id')
      .option('--datastore <ds>', 'only this datastore (id or display_id)')
      .option('--item <id>', 'only this item')
      .option('--limit <n>', 'at most this many', '100')
      .option('--offset <n>', 'skip this many', '0'),
  ).action(async (o: ListOpts) => {
    const conn = connect(o);
    const query = {
      limit: Math.min(1000, Math.floor(parsePositive('--limit', o.limit))),
      offset: Math.max(0, Math.floor(Number(o.offset) || 0)),
      ...(o.state !== 'any' ? { state: o.state as Ticket['state'] } : {}),
      ...(o.assignee !== 'any' ? { assignee: o.assignee } : {}),
      ...(o.submitter ? { submitter: o.submitter } : {}),
      ...(o.item ? { item_id: o.item } : {}),
      ...(o.datastore ? { datastore_id: await datastoreId(conn, o.datastore) } : {}),
    };
    const res = await ok(conn.api.GET('/api/v1/workspaces/{ws}/tickets', { params: { path: { ws: conn.ws }, query } }));
    if (conn.json) return printJson(res);
    if (!res.tickets.length) return printLine('no tickets');
    printTable([
      ['ID', 'ITEM', 'ACTION', 'STATE', 'ASSIGNEE', 'BATCH', 'REASON'],
      ...res.tickets.map((t) => [
        t.id,
        t.item_id,
        t.action,
        t.state,
        t.assignee_id ?? (t.assignee_role ? `role:${t.assignee_role}` : null),
        t.batch_approvable ? 'yes' : 'no',
        t.reason,
      ]),
    ]);
    if (res.total > res.tickets.length) printLine(`(${res.tickets.length} of ${res.total}; use --offset for more)`);
  });

  for (const decision of ['approve', 'reject'] as const) {
    const cmd = tickets
      .command(decision)
      .description(
        `${decision === 'approve' ? 'Approve' : 'Reject'} my pending tickets matching a filter (or named by id) as one batch`,
      )
      .argument('[ids...]', 'ticket ids (default: all my pending tickets matching the filter)')
      .option('--datastore <ds>', 'only tickets on items of this datastore')
      .option('--where <json>', 'only tickets whose item matches these conditions (needs --datastore)')
      .option('--or', 'match any condition instead of all')
      .option('--comment <text>', 'decision comment')
      .option('--check', 'only report which tickets cannot be decided in a batch and why; exit 1 if any')
      .option('--dry-run', 'run every per-ticket check, write nothing')
      .option('--max-rate <n>', 'tickets per second')
      .option('--idempotency-key <key>', 'the same key and body return the same batch');
    watchOptions(clientCommand(cmd)).action(async (ids: string[], o: DecideOpts) => {
      const conn = connect(o);
      const sel = await selectTickets(conn, {
        ids,
        ...(o.datastore ? { datastore: o.datastore } : {}),
        ...(o.where ? { where: parseJsonArray('--where', o.where) as Conditions } : {}),
        ...(o.or ? { or: true } : {}),
        ...(o.comment !== undefined ? { comment: o.comment } : {}),
      });
      if (o.check) {
        if (conn.json) printJson({ decidable: sel.decidable.map((t) => t.id), undecidable: sel.undecidable });
        else {
          printLine(`${sel.decidable.length} ticket(s) can be decided in one batch; ${sel.undecidable.length} cannot.`);
          if (sel.undecidable.length)
            printTable([['TICKET', 'ITEM', 'WHY NOT'], ...sel.undecidable.map((u) => [u.id, u.item_id, u.reason])]);
        }
        process.exitCode = sel.undecidable.length ? EXIT.itemFailures : EXIT.ok;
        return;
      }
      if (sel.undecidable.length) {
        process.stderr.write(
          `batchgate: leaving out ${sel.undecidable.length} ticket(s) that cannot be decided in a batch (see --check)\n`,
        );
      }
      const batch = await ok(
        conn.api.POST('/api/v1/workspaces/{ws}/batches', {
          params: { path: { ws: conn.ws }, header: o.idempotencyKey ? { 'idempotency-key': o.idempotencyKey } : {} },
          body: {
            operation: decision,
            target: { ids: sel.decidable.map((t) => t.id) },
            ...(o.comment !== undefined ? { comment: o.comment } : {}),
            ...(o.dryRun ? { dry_run: true } : {}),
            ...(o.maxRate ? { max_rate: parsePositive('--max-rate', o.maxRate) } : {}),
          },
        }),
      );
      process.exitCode = await finishBatch(conn, batch, o);
    });
  }
}

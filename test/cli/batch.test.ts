import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { describeEachDialect } from '../helpers/db.ts';
import { exits, json, seedItems, startHarness, statusesOf, type Harness } from './harness.ts';

/** `batchgate batch …` as a process against a real `batchgate serve` (SQLite only, like start.test.ts). */
const T = { timeout: 180_000 };

describeEachDialect('batchgate batch (client commands as processes)', (dialect) => {
  let h: Harness;
  before(async () => (h = await startHarness(dialect)));
  /** Submits the `finish` action on every item of `ds`, to start in an hour; answers the batch. */
  const finishInAnHour = async (ds: string, ...args: string[]) =>
    json(
      exits(
        await h.cli([
          'batch',
          'submit',
          'action',
          '--action',
          'finish',
          '--datastore',
          ds,
          '--start-at',
          '+1h',
          ...args,
          '--json',
        ]),
        0,
      ),
    );
  after(() => h?.close());

  it('submit --ids-file --watch runs the batch to completion and exits 0', T, async () => {
    const ds = await h.datastore('by_ids');
    const ids = await seedItems(h, ds, 30);
    const file = h.file('ids.txt', `# the first twenty\n${ids.slice(0, 20).join('\n')}\n\n`);
    const r = exits(
      await h.cli([
        'batch',
        'submit',
        'action',
        '--action',
        'finish',
        '--ids-file',
        file,
        '--watch',
        '--interval',
        '0.2',
      ]),
      0,
    );
    assert.match(r.stdout, /succeeded: 20 succeeded, 0 failed, 0 skipped of 20/);
    assert.deepEqual(await statusesOf(h, ds), { done: 20, draft: 10 });
    // Ids from stdin, and --json: the final batch as one JSON document.
    const viaStdin = json(
      exits(
        await h.cli(['batch', 'submit', 'action', '--action', 'finish', '--ids-file', '-', '--watch', '--json'], {
          stdin: ids.slice(20).join('\n'),
        }),
        0,
      ),
    );
    assert.equal(viaStdin.state, 'succeeded');
    assert.equal(viaStdin.total, 10);
    assert.deepEqual(await statusesOf(h, ds), { done: 30 });
  });

  it(
    'submit --datastore --where: item failures end completed_with_errors and exit 1; batch items --state failed lists them',
    T,
    async () => {
      const ds = await h.datastore('by_where');
      const ids = await seedItems(h, ds, 12);
      // --watch returns once the worker has finished it.
      exits(
        await h.cli(['batch', 'submit', 'action', '--action', 'finish', '--ids', ids.slice(0, 3).join(','), '--watch']),
        0,
      );
      // amounts 1..6: three are already done, so `finish` fails for them.
      const where = JSON.stringify([{ id: 'amount', search_value: [1, 6] }]);
      const r = exits(
        await h.cli([
          'batch',
          'submit',
          'action',
          '--action',
          'finish',
          '--datastore',
          ds,
          '--where',
          where,
          '--watch',
          '--json',
        ]),
        1,
      );
      const batch = json(r);
      assert.equal(batch.state, 'completed_with_errors');
      assert.deepEqual([batch.total, batch.succeeded, batch.failed], [6, 3, 3]);
      const failed = json(exits(await h.cli(['batch', 'items', batch.id, '--state', 'failed', '--json']), 0));
      assert.equal(failed.items.length, 3);
      assert.deepEqual(new Set(failed.items.map((i: any) => i.target_id)), new Set(ids.slice(0, 3)));
      assert.ok(
        failed.items.every((i: any) => i.error_code === 'WRONG_STATUS'),
        JSON.stringify(failed.items),
      );
      // `batch watch` of a finished batch answers at once, with the same exit code.
      const watched = exits(await h.cli(['batch', 'watch', batch.id]), 1);
      assert.match(watched.stdout, /completed_with_errors: 3 succeeded, 3 failed/);
      const human = exits(await h.cli(['batch', 'items', batch.id, '--state', 'failed']), 0);
      assert.match(human.stdout, /WRONG_STATUS/);
    },
  );

  it('--watch draws plain periodic progress lines with rate and ETA when not on a TTY', T, async () => {
    const ds = await h.datastore('slow');
    await seedItems(h, ds, 60);
    const r = exits(
      await h.cli([
        'batch',
        'submit',
        'action',
        '--action',
        'finish',
        '--datastore',
        ds,
        '--max-rate',
        '40',
        '--watch',
        '--interval',
        '0.2',
      ]),
      0,
    );
    const lines = r.stderr.split('\n').filter((l) => /^batch \d+ /.test(l));
    assert.ok(lines.length >= 3, `progress lines:\n${r.stderr}`);
    assert.match(lines.at(-1)!, /succeeded: 60\/60 \(100\.0%\), [\d.]+ items\/s, ETA 0s, 0 failed/);
    assert.ok(
      lines.some((l) => /running: \d+\/60 .*items\/s, ETA \d+/.test(l)),
      r.stderr,
    );
    assert.ok(!r.stderr.includes('\u001b['), 'no terminal escapes off a TTY');
    assert.match(r.stdout, /succeeded: 60 succeeded/);
  });

  it('controls: pause, resume, rethrottle, cancel; get and list; dry run and idempotency key', T, async () => {
    const ds = await h.datastore('controls');
    await seedItems(h, ds, 5);
    const later = await finishInAnHour(ds);
    assert.equal(later.state, 'scheduled');
    assert.equal(json(exits(await h.cli(['batch', 'pause', later.id, '--json']), 0)).state, 'paused');
    assert.equal(json(exits(await h.cli(['batch', 'rethrottle', later.id, '7', '--json']), 0)).max_rate, 7);
    assert.equal(json(exits(await h.cli(['batch', 'rethrottle', later.id, 'none', '--json']), 0)).max_rate, null);
    const cancelled = exits(await h.cli(['batch', 'cancel', later.id]), 0);
    assert.match(cancelled.stdout, /cancelled: 0 succeeded, 0 failed, 5 skipped of 5/);
    const got = json(exits(await h.cli(['batch', 'get', later.id, '--json']), 0));
    assert.equal(got.state, 'cancelled');
    assert.match(exits(await h.cli(['batch', 'get', later.id]), 0).stdout, /operation action \(finish\)/);
    // A control the state does not allow is a request error: exit 2 with the server's code.
    const retry = exits(await h.cli(['batch', 'retry', later.id]), 2);
    assert.match(retry.stderr, /BATCH_STATE: .*\(HTTP 409\)/);
    const listed = json(exits(await h.cli(['batch', 'list', '--state', 'cancelled', '--json']), 0));
    assert.deepEqual(
      listed.batches.map((b: any) => b.id),
      [later.id],
    );
    assert.match(exits(await h.cli(['batch', 'list']), 0).stdout, /^ID\s+OPERATION\s+STATE/);

    // Pause a running batch, speed it up, resume it and follow it to its end.
    const slow = json(
      exits(
        await h.cli([
          'batch',
          'submit',
          'action',
          '--action',
          'finish',
          '--datastore',
          ds,
          '--max-rate',
          '0.2',
          '--json',
        ]),
        0,
      ),
    );
    const pausedNow = json(exits(await h.cli(['batch', 'pause', slow.id, '--json']), 0));
    assert.equal(pausedNow.state, 'paused');
    exits(await h.cli(['batch', 'rethrottle', slow.id, '1000']), 0);
    assert.match(exits(await h.cli(['batch', 'resume', slow.id, '--watch']), 0).stdout, /succeeded: 5 succeeded/);
    assert.deepEqual(await statusesOf(h, ds), { done: 5 });

    /** A dry run of an update of every item of `ds`; answers the batch. */
    const dryUpdate = async (...args: string[]) =>
      json(
        exits(
          await h.cli([
            'batch',
            'submit',
            'update',
            '--datastore',
            ds,
            '--fields',
            '{"vendor":"dry"}',
            '--dry-run',
            ...args,
            '--json',
          ]),
          0,
        ),
      );
    const dry = await dryUpdate('--watch');
    assert.deepEqual([dry.dry_run, dry.state, dry.succeeded, dry.notify], [true, 'succeeded', 5, true]);
    const quiet = await dryUpdate('--no-notify');
    assert.equal(quiet.notify, false, '--no-notify: no ticket webhook events for this batch');
    const vendors = await h.api('POST', `/api/v1/workspaces/${h.workspace}/datastores/${ds}/items/search`, {
      conditions: [{ id: 'vendor', search_value: ['dry'] }],
    });
    assert.equal(vendors.total, 0, 'a dry run writes nothing');
    const key = ['--idempotency-key', 'once', '--comment', 'x', '--json'];
    const first = json(
      exits(await h.cli(['batch', 'submit', 'update', '--datastore', ds, '--fields', '{"vendor":"acme"}', ...key]), 0),
    );
    const again = json(
      exits(await h.cli(['batch', 'submit', 'update', '--datastore', ds, '--fields', '{"vendor":"acme"}', ...key]), 0),
    );
    assert.equal(again.id, first.id);
  });

  it('priority, reprioritize and revert (dry run, then for real)', T, async () => {
    const ds = await h.datastore('revert');
    await seedItems(h, ds, 4);
    const later = await finishInAnHour(ds, '--priority', '30');
    assert.equal(later.priority, 30);
    assert.equal(json(exits(await h.cli(['batch', 'reprioritize', later.id, '5', '--json']), 0)).priority, 5);
    exits(await h.cli(['batch', 'cancel', later.id]), 0);

    const done = json(
      exits(
        await h.cli(['batch', 'submit', 'action', '--action', 'finish', '--datastore', ds, '--watch', '--json']),
        0,
      ),
    );
    assert.deepEqual(await statusesOf(h, ds), { done: 4 });
    const dry = json(exits(await h.cli(['batch', 'revert', done.id, '--dry-run', '--watch', '--json']), 0));
    assert.deepEqual([dry.operation, dry.reverts_batch_id, dry.dry_run, dry.succeeded], ['revert', done.id, true, 4]);
    assert.deepEqual(await statusesOf(h, ds), { done: 4 }, 'a dry run reverts nothing');
    const r = exits(await h.cli(['batch', 'revert', done.id, '--comment', 'oops', '--watch']), 0);
    assert.match(r.stdout, /succeeded: 4 succeeded, 0 failed, 0 skipped of 4/);
    assert.deepEqual(await statusesOf(h, ds), { draft: 4 });
  });

  it('exit 2 on bad usage and on a 4xx, with the server code and message on stderr', T, async () => {
    const bad = [
      ['batch', 'submit', 'explode', '--ids', '1'],
      ['batch', 'submit', 'action', '--ids', '1'],
      ['batch', 'submit', 'action', '--action', 'finish'],
      ['batch', 'submit', 'action', '--action', 'finish', '--where', '[]'],
      ['batch', 'submit', 'update', '--datastore', 'x', '--fields', '{nope'],
      ['batch', 'rethrottle', '1', 'fast'],
      ['batch', 'reprioritize', '1', '101'],
      ['batch', 'submit', 'action', '--action', 'finish', '--ids', '1', '--priority', '0'],
      ['batch', 'nope'],
      ['tickets', 'approve', '--where', '[]'],
    ];
    for (const args of bad) {
      const r = exits(await h.cli(args), 2);
      assert.ok(r.stderr.trim(), `${args.join(' ')}: says why on stderr`);
      assert.equal(r.stdout, '', `${args.join(' ')}: nothing on stdout`);
    }
    const missing = exits(
      await h.cli(['batch', 'submit', 'action', '--action', 'finish', '--datastore', 'no_such_ds']),
      2,
    );
    assert.match(missing.stderr, /DATASTORE_NOT_FOUND: .*\(HTTP 404\)/);
    const noToken = exits(await h.cli(['batch', 'list'], { env: { BATCHGATE_TOKEN: 'wrong' } }), 2);
    assert.match(noToken.stderr, /UNAUTHENTICATED/);
    const noUrl = exits(await h.cli(['batch', 'list'], { env: { BATCHGATE_URL: '' } }), 2);
    assert.match(noUrl.stderr, /BATCHGATE_URL/);
    const down = exits(await h.cli(['batch', 'list', '--url', 'http://127.0.0.1:9']), 2);
    assert.match(down.stderr, /cannot reach the service/);
  });

  it('batchgate --help lists every command', T, async () => {
    const r = exits(await h.cli(['--help']), 0);
    for (const cmd of [
      'serve',
      'worker',
      'migrate',
      'batch submit',
      'batch get',
      'batch list',
      'batch items',
      'batch cancel',
      'batch pause',
      'batch resume',
      'batch retry',
      'batch rethrottle',
      'batch reprioritize',
      'batch revert',
      'batch watch',
      'tickets list',
      'tickets approve',
      'tickets reject',
      'items import',
      'items export',
    ]) {
      assert.match(r.stdout, new RegExp(`\\b${cmd}\\b`), cmd);
    }
    assert.match(r.stdout, /Exit codes: 0 success, 1 .*, 2 usage or request error/);
  });
});

import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { describeEachDialect } from '../helpers/db.ts';
import { exits, json, seedItems, startHarness, statusesOf, type Harness } from './harness.ts';

/** `batchgate tickets …` as a process against a real `batchgate serve` (SQLite only). */
const T = { timeout: 180_000 };

describeEachDialect('batchgate tickets (client commands as processes)', (dialect) => {
  let h: Harness;
  let approver: { id: string; token: string };
  let member: { id: string; token: string };
  const as = (u: { token: string }) => ({ env: { BATCHGATE_TOKEN: u.token } });
  before(async () => {
    h = await startHarness(dialect);
    approver = await h.user('Ann Approver', 'approver');
    member = await h.user('Max Member', 'member');
  });
  after(() => h?.close());

  it(
    'approve --check says which tickets cannot be decided in a batch and why; approve decides the rest as one batch',
    T,
    async () => {
      const ds = await h.datastore('tk');
      const ids = await seedItems(h, ds, 10);
      // Items 1-6 go through `submit` (batch approvable), 7-8 through `escalate` (not), as the member.
      exits(
        await h.cli(
          ['batch', 'submit', 'action', '--action', 'submit', '--ids', ids.slice(0, 6).join(','), '--watch'],
          as(member),
        ),
        0,
      );
      exits(
        await h.cli(
          ['batch', 'submit', 'action', '--action', 'escalate', '--ids', ids.slice(6, 8).join(','), '--watch'],
          as(member),
        ),
        0,
      );

      const mine = json(exits(await h.cli(['tickets', 'list', '--json'], as(approver)), 0));
      assert.equal(mine.total, 8);
      assert.equal(
        json(exits(await h.cli(['tickets', 'list', '--json'], as(member)), 0)).total,
        0,
        'a member decides nothing',
      );
      const submitted = json(
        exits(
          await h.cli(
            ['tickets', 'list', '--assignee', 'any', '--submitter', 'me', '--datastore', ds, '--json'],
            as(member),
          ),
          0,
        ),
      );
      assert.equal(submitted.total, 8);
      assert.match(exits(await h.cli(['tickets', 'list'], as(approver)), 0).stdout, /^ID\s+ITEM\s+ACTION\s+STATE/);

      const check = exits(await h.cli(['tickets', 'approve', '--datastore', ds, '--check'], as(approver)), 1);
      assert.match(check.stdout, /6 ticket\(s\) can be decided in one batch; 2 cannot/);
      const checked = json(
        exits(await h.cli(['tickets', 'approve', '--datastore', ds, '--check', '--json'], as(approver)), 1),
      );
      assert.equal(checked.decidable.length, 6);
      assert.deepEqual(checked.undecidable.map((u: any) => u.item_id).sort(), ids.slice(6, 8).sort());
      assert.ok(
        checked.undecidable.every((u: any) => /batch/i.test(u.reason)),
        JSON.stringify(checked.undecidable),
      );
      // Only the tickets whose items match --where: amounts 1-3.
      const where = JSON.stringify([{ id: 'amount', search_value: [1, 3] }]);
      const narrowed = json(
        exits(
          await h.cli(['tickets', 'approve', '--datastore', ds, '--where', where, '--check', '--json'], as(approver)),
          0,
        ),
      );
      assert.equal(narrowed.decidable.length, 3);
      assert.deepEqual(narrowed.undecidable, []);

      const approved = json(
        exits(
          await h.cli(
            ['tickets', 'approve', '--datastore', ds, '--where', where, '--comment', 'ok', '--watch', '--json'],
            as(approver),
          ),
          0,
        ),
      );
      assert.deepEqual([approved.operation, approved.state, approved.succeeded], ['approve', 'succeeded', 3]);
      assert.deepEqual(await statusesOf(h, ds), { approved: 3, pending: 5, draft: 2 });

      // The rest: the two escalations are left out (and said so), the three others approved.
      const rest = exits(await h.cli(['tickets', 'approve', '--datastore', ds, '--watch'], as(approver)), 0);
      assert.match(rest.stderr, /leaving out 2 ticket\(s\)/);
      assert.match(rest.stdout, /succeeded: 3 succeeded, 0 failed/);
      assert.deepEqual(await statusesOf(h, ds), { approved: 6, pending: 2, draft: 2 });
    },
  );

  it('reject by ticket id; ids that are not mine are reported by --check with why', T, async () => {
    const ds = await h.datastore('tk2');
    const ids = await seedItems(h, ds, 3);
    exits(
      await h.cli(['batch', 'submit', 'action', '--action', 'submit', '--ids', ids.join(','), '--watch'], as(member)),
      0,
    );
    const tickets = json(exits(await h.cli(['tickets', 'list', '--datastore', ds, '--json'], as(approver)), 0)).tickets;
    assert.equal(tickets.length, 3);
    const [a, b] = tickets.map((t: any) => t.id);

    const rejected = json(
      exits(await h.cli(['tickets', 'reject', a, '--comment', 'no', '--watch', '--json'], as(approver)), 0),
    );
    assert.deepEqual([rejected.operation, rejected.total, rejected.succeeded], ['reject', 1, 1]);
    const check = json(exits(await h.cli(['tickets', 'reject', a, b, '1', '--check', '--json'], as(approver)), 1));
    assert.deepEqual(check.decidable, [b]);
    const why = Object.fromEntries(check.undecidable.map((u: any) => [u.id, u.reason]));
    assert.match(why[a], /already rejected/);
    assert.match(why['1'], /no such ticket/);
    const memberCheck = json(exits(await h.cli(['tickets', 'approve', b, '--check', '--json'], as(member)), 1));
    assert.match(memberCheck.undecidable[0].reason, /assigned to role approver, not to you/);
    assert.deepEqual(await statusesOf(h, ds), { rejected: 1, pending: 2 });
  });
});

import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { describeEachDialect } from '../helpers/db.ts';
import { exits, json, startHarness, type Harness } from './harness.ts';

/** `batchgate tokens …` as a process against a real `batchgate serve` (SQLite only). */
const T = { timeout: 120_000 };

describeEachDialect('batchgate tokens (client commands as processes)', (dialect) => {
  let h: Harness;
  let member: { id: string; token: string };
  const as = (u: { token: string }) => ({ env: { BATCHGATE_TOKEN: u.token } });
  before(async () => {
    h = await startHarness(dialect);
    member = await h.user('Tia Tokens', 'member');
  });
  after(() => h?.close());

  it('creates a labelled, expiring token, lists it without its secret, and revokes it', T, async () => {
    const created = exits(
      await h.cli(['tokens', 'create', '--label', 'ci', '--expires-at', '2099-01-01T00:00:00Z'], as(member)),
      0,
    );
    const secret = created.stdout.trim();
    assert.match(secret, /^bg_\S+$/);
    assert.equal((await h.api('GET', '/api/v1/me', undefined, secret)).id, member.id);
    const listed = json(exits(await h.cli(['tokens', 'list', '--json'], as(member)), 0));
    assert.equal(listed.tokens.length, 2);
    const ci = listed.tokens.find((t: any) => t.label === 'ci');
    assert.equal(ci.expires_at, '2099-01-01T00:00:00.000Z');
    const table = exits(await h.cli(['tokens', 'list'], as(member)), 0).stdout;
    assert.match(table, /ci\s+\S+\s+2099-01-01/);
    assert.ok(!table.includes(secret) && !table.includes(member.token), 'no secret listed');
    // A workspace admin (here the system admin) revokes it by the member's id.
    exits(await h.cli(['tokens', 'revoke', ci.id, '--user', member.id]), 0);
    assert.equal(json(exits(await h.cli(['tokens', 'list', '--json'], as(member)), 0)).tokens.length, 1);
    const refused = exits(await h.cli(['tokens', 'list'], { env: { BATCHGATE_TOKEN: secret } }), 2);
    assert.match(refused.stderr, /UNAUTHENTICATED/);
    assert.match(
      exits(await h.cli(['tokens', 'create', '--expires-at', 'soon'], as(member)), 2).stderr,
      /--expires-at/,
    );
  });
});

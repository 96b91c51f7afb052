/**
 * The README's tour runs as pasted: its shell block, with only its port changed to a free one, starts a service on
 * a fresh SQLite database, searches, runs a batch to its end and has the approver decide the tickets it opened.
 * Needs bash and curl (skipped without them, failing instead when CI is set).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { cleanEnv, freePort, ROOT } from '../helpers/processes.ts';

function tourScript(): string {
  const readme = readFileSync(`${ROOT}README.md`, 'utf8');
  const from = readme.indexOf('### A short tour');
  assert.ok(from >= 0, 'README has a tour');
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(from));
  assert.ok(block, 'the tour is one sh block');
  return block[1]!;
}

const tools = ['bash', 'curl'].every((t) => spawnSync('which', [t]).status === 0);

it('the README tour runs as pasted', { skip: !tools && !process.env.CI && 'needs bash and curl' }, async () => {
  const script = tourScript();
  assert.doesNotMatch(script, /<[a-z][^>]*>|\.\.\./i, 'no placeholder left for the reader to fill in');
  const port = await freePort();
  // A tour that fails half-way still stops its service.
  const guard = 'trap \'[ -n "${SERVICE:-}" ] && kill $SERVICE 2>/dev/null\' EXIT\n';
  const run = spawnSync('bash', ['-e', '-o', 'pipefail', '-c', guard + script.replaceAll('8081', String(port))], {
    cwd: ROOT,
    env: cleanEnv(),
    encoding: 'utf8',
    timeout: 120_000,
  });
  const out = `${run.stdout}\n${run.stderr}`;
  assert.equal(run.status, 0, out);
  assert.match(run.stdout, /"title":"PR-\d+/, 'the search found drafts');
  assert.match(run.stdout, /event: end\ndata: \{[^\n]*"operation":"action","state":"succeeded","total":40/, out);
  assert.match(run.stdout, /\{"items":\[\],"next_cursor":null\}/, 'no failed item');
  assert.match(run.stdout, /"operation":"approve","state":"queued","total":40/, 'the approver decides all 40');
});

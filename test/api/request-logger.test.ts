/** The lazy per-request logger (src/api/request-context.ts): no child until a line passes, then one with the id. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import { requestChildLogger } from '../../src/api/request-context.ts';
import { captureLogs } from '../helpers/logs.ts';

it('writes lines its level lets through with the request id, and follows a level set on it', () => {
  const logs = captureLogs();
  const parent = pino({ level: 'warn' }, logs.destination) as unknown as FastifyBaseLogger;
  const log = requestChildLogger(parent, { request_id: 'r-1' }, {});
  log.info('hidden');
  assert.equal(logs.lines().length, 0);
  log.warn({ a: 1 }, 'shown');
  assert.deepEqual(
    logs.lines().map((l) => [l.msg, l.request_id, l.a]),
    [['shown', 'r-1', 1]],
  );
  log.level = 'debug';
  log.debug('now shown');
  assert.deepEqual(
    logs.lines().map((l) => l.msg),
    ['shown', 'now shown'],
  );
  assert.equal(parent.level, 'warn', 'the service logger keeps its level');
});

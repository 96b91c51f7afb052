import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { buildApp } from '../../src/api/app.ts';
import { Errors } from '../../src/errors.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { makeClient, type Res } from '../helpers/service.ts';
import { makeFixture, submit, waitForGroup, type Fixture } from './fixture.ts';

/** A refusal in this API's envelope: flat `{code, message, details?}`, a catalog code with its catalog status. */
function refused(r: Res, status: number, code: string | string[] | undefined, what: string): void {
  const ctx = `${what} -> ${r.status} ${JSON.stringify(r.body)?.slice(0, 300)}`;
  assert.equal(r.status, status, ctx);
  assert.ok(r.body && typeof r.body === 'object' && !Array.isArray(r.body), `no envelope: ${ctx}`);
  assert.equal(r.body.error, undefined, `flat envelope: ${ctx}`);
  const got = r.body.code as string;
  assert.ok(Object.hasOwn(Errors, got), `code not in the catalog: ${ctx}`);
  assert.equal(Errors[got as keyof typeof Errors].status, status, ctx);
  assert.equal(typeof r.body.message, 'string', ctx);
  if (code !== undefined) assert.ok([code].flat().includes(got), `expected ${[code].flat().join('|')}: ${ctx}`);
}

describeEachDialect('batch approvals: bad input', (dialect) => {
  let f: Fixture;
  let ids: string[];
  let batchNumber: string;
  before(async () => {
    f = await makeFixture(dialect);
    ids = (await f.tickets(f.W1, 3)).map((t) => t.id);
    // One finished group, so refused progress queries have something to miss.
    const done = await f.ticket(f.W1);
    batchNumber = (await submit(f.approver.api, f.approver.id, [done.id])).body.batch_number;
    await waitForGroup(f.approver.api, f.approver.id, batchNumber);
  });
  after(() => f.close());

  async function snapshot() {
    const db = f.s.db.ctx.db;
    return {
      tickets: await db.selectFrom('ticket').select(['id', 'state']).orderBy('id').execute(),
      items: await db.selectFrom('item').select(['id', 'rev_no', 'status_id']).orderBy('id').execute(),
      batches: await db.selectFrom('batch').select(['id', 'state', 'total']).orderBy('id').execute(),
      batchItems: (
        await db
          .selectFrom('batch_item')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    };
  }
  async function unchanged(fn: () => Promise<void>): Promise<void> {
    const before = await snapshot();
    await fn();
    // Let a worker run anything a refused request might have queued.
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(await snapshot(), before, 'a refused request changed state');
  }

  const routes = () => [
    `/batch_approvals/_check?user_id=${f.approver.id}`,
    `/batch_approvals/_submit?user_id=${f.approver.id}`,
  ];

  it('refuses wrong types, non-arrays, objects in the array and malformed JSON, whole', async () => {
    const api = f.approver.api;
    const id = JSON.stringify(ids[0]);
    const bodies: [string, string][] = [
      ['{}', 'VALIDATION_FAILED'],
      ['{"task_ids": "x"}', 'VALIDATION_FAILED'],
      ['{"task_ids": null}', 'VALIDATION_FAILED'],
      [`{"task_ids": [${id}], "user_id": "1"}`, 'VALIDATION_FAILED'],
      [`{"taskIds": [${id}]}`, 'VALIDATION_FAILED'],
      ['"abc"', 'VALIDATION_FAILED'],
      ['123', 'VALIDATION_FAILED'],
      ['true', 'VALIDATION_FAILED'],
      ['null', 'VALIDATION_FAILED'],
      [`[${id}, {"id": ${id}}]`, 'VALIDATION_FAILED'],
      [`[{"task_id": ${id}}]`, 'VALIDATION_FAILED'],
      [`[${id}, [${id}]]`, 'VALIDATION_FAILED'],
      [`[${id}, true]`, 'VALIDATION_FAILED'],
      [`[${id}, null]`, 'VALIDATION_FAILED'],
      [`[${id}, 1.5]`, 'VALIDATION_FAILED'],
      [`[${id}, -1]`, 'VALIDATION_FAILED'],
      [`[${id}, 1e400]`, 'VALIDATION_FAILED'],
      [`[${id}, ""]`, 'VALIDATION_FAILED'],
      [`[${id}, "a b"]`, 'VALIDATION_FAILED'],
      [`[${id}, "${'x'.repeat(65)}"]`, 'VALIDATION_FAILED'],
      [`[${id}, "a\\u0000b"]`, 'VALIDATION_FAILED'],
      [`[${id}`, 'INVALID_JSON'],
      [`[${id},]`, 'INVALID_JSON'],
      ['', 'VALIDATION_FAILED'],
      [JSON.stringify(Array.from({ length: 201 }, (_, i) => `t${i}`)), 'TOO_MANY_TARGETS'],
      [JSON.stringify({ task_ids: [...ids, ...Array.from({ length: 198 }, (_, i) => `t${i}`)] }), 'TOO_MANY_TARGETS'],
    ];
    await unchanged(async () => {
      for (const url of routes()) {
        for (const [body, code] of bodies)
          refused(
            await api.raw('POST', url, body, { 'content-type': 'application/json' }),
            400,
            code,
            `${url} ${body.slice(0, 80)}`,
          );
      }
      // An empty list: nothing to submit (a _check of nothing answers nothing).
      refused(await api.raw('POST', routes()[1]!, '[]'), 400, 'VALIDATION_FAILED', '_submit []');
      refused(
        await api.raw('POST', routes()[1]!, '{"task_ids": []}'),
        400,
        'VALIDATION_FAILED',
        '_submit {task_ids: []}',
      );
    });
    const empty = await api.raw('POST', routes()[0]!, '[]');
    assert.deepEqual([empty.status, empty.body], [200, []]);
  });

  it('refuses bodies that are not JSON with 415', async () => {
    await unchanged(async () => {
      for (const url of routes()) {
        for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
          refused(
            await f.approver.api.raw('POST', url, JSON.stringify(ids), { 'content-type': type }),
            415,
            'UNSUPPORTED_MEDIA_TYPE',
            `${url} ${type}`,
          );
        }
      }
    });
  });

  it('refuses a missing or malformed user_id and batch_number', async () => {
    const api = f.approver.api;
    const body = JSON.stringify(ids);
    await unchanged(async () => {
      for (const route of ['_check', '_submit']) {
        for (const q of [
          '',
          '?',
          '?user_id=',
          `?userId=${f.approver.id}`,
          '?user_id=a%20b',
          `?user_id=${'9'.repeat(65)}`,
          `?user_id=${f.approver.id}&user_id=${f.approver.id}`,
        ]) {
          refused(
            await api.raw('POST', `/batch_approvals/${route}${q}`, body),
            400,
            'VALIDATION_FAILED',
            `${route}${q}`,
          );
        }
      }
      for (const q of [
        `?user_id=${f.approver.id}`,
        `?batch_number=${batchNumber}`,
        `?user_id=${f.approver.id}&batch_number=`,
        `?user_id=${f.approver.id}&batch_number=a%2Fb`,
      ]) {
        refused(await api.get(`/batch_approvals/_submit${q}`), 400, 'VALIDATION_FAILED', `progress ${q}`);
      }
      // NUL in the query string.
      refused(
        await api.raw('POST', `/batch_approvals/_check?user_id=${f.approver.id}%00`, body),
        400,
        'BAD_REQUEST',
        'NUL',
      );
    });
  });

  it("refuses another user's id (403) and another user's batch_number (404), changing nothing", async () => {
    await unchanged(async () => {
      for (const [caller, target] of [
        [f.member, f.approver.id],
        [f.approver, f.approver2.id],
        [f.member3, f.member.id],
      ] as const) {
        refused(
          await caller.api.post(`/batch_approvals/_check?user_id=${target}`, ids),
          403,
          'FORBIDDEN',
          'check for another',
        );
        refused(
          await caller.api.post(`/batch_approvals/_submit?user_id=${target}`, ids),
          403,
          'FORBIDDEN',
          'submit for another',
        );
        refused(
          await caller.api.get(`/batch_approvals/_submit?user_id=${target}&batch_number=${batchNumber}`),
          403,
          'FORBIDDEN',
          'progress for another',
        );
      }
      refused(
        await f.approver2.api.get(`/batch_approvals/_submit?user_id=${f.approver2.id}&batch_number=${batchNumber}`),
        404,
        'BATCH_NOT_FOUND',
        "another's batch_number",
      );
      refused(
        await f.member3.api.get(`/batch_approvals/_submit?user_id=${f.member3.id}&batch_number=${batchNumber}`),
        404,
        'BATCH_NOT_FOUND',
        "another workspace's batch_number",
      );
      const anon = await f.s.app.inject({
        method: 'POST',
        url: routes()[1]!,
        headers: { 'content-type': 'application/json', authorization: 'Bearer nope' },
        payload: JSON.stringify(ids),
      });
      refused(
        { status: anon.statusCode, body: JSON.parse(anon.body), headers: anon.headers },
        401,
        'UNAUTHENTICATED',
        'bad token',
      );
    });
  });

  it('refuses a body over BATCHGATE_BODY_LIMIT with 413 and more ids than the schema bound with 400, whole', async () => {
    const small = await buildApp({ ctx: f.s.db.ctx, engine: f.s.engine, bodyLimit: 1024 });
    await small.ready();
    try {
      const api = makeClient(small, f.approver.api.token);
      const big = JSON.stringify(Array.from({ length: 100 }, (_, i) => `task-${i}-${'x'.repeat(10)}`));
      assert.ok(big.length > 1024);
      await unchanged(async () => {
        for (const url of routes()) {
          refused(
            await api.raw('POST', url, big, { 'content-type': 'application/json' }),
            413,
            'BODY_TOO_LARGE',
            `${url} over the limit`,
          );
          refused(
            await api.raw('POST', url, `{"task_ids": ${big}}`, { 'content-type': 'application/json' }),
            413,
            'BODY_TOO_LARGE',
            `${url} over the limit`,
          );
        }
      });
      assert.equal((await api.post(routes()[0]!, ids)).status, 200, 'under the limit the same app answers');
    } finally {
      await small.close();
    }
    // 201..10,000 ids are a readable TOO_MANY_TARGETS (above); past the schema's bound the request is not even read.
    const many = JSON.stringify(Array.from({ length: 10_001 }, (_, i) => i + 1));
    await unchanged(async () => {
      for (const url of routes())
        refused(
          await f.approver.api.raw('POST', url, many, { 'content-type': 'application/json' }),
          400,
          'VALIDATION_FAILED',
          `${url} 10,001 ids`,
        );
    });
  });
});

/**
 * Webhooks end to end on both databases: a real receiver on 127.0.0.1 verifies every signature; batch and ticket
 * events, the notify switch, retries and timeouts with the delivery log, redelivery, tenant isolation, the secret's
 * secrecy (responses and logs), no event lost or doubled across a restart, and two delivery loops on one database.
 */
import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, it } from 'node:test';
import pino from 'pino';
import type { DelivererOptions } from '../../src/engine/webhooks/deliverer.ts';
import { makeEngine } from '../../src/engine/engine.ts';
import { failChunk } from '../../src/engine/sql/fail-chunk.ts';
import { finalizeIfDone } from '../../src/engine/finalize-if-done.ts';
import { describeEachDialect, openTestDb } from '../helpers/db.ts';
import { startReceiver, verifySignature, type Received, type Receiver } from '../helpers/receiver.ts';
import { startTestService, type Client, type TestService } from '../helpers/service.ts';
import { until, waitForBatch } from '../helpers/wait.ts';
import { workspaceWithRoles, type RolesWorkspace } from '../helpers/worlds.ts';

const LOOPBACK = { webhooks: { allowPrivate: true, allowedHosts: null } };
/** Short backoff for tests; a generous timeout, since the machine is shared. */
const FAST: DelivererOptions = { pollMs: 25, backoffBaseMs: 30, backoffMaxMs: 200, timeoutMs: 20_000, maxAttempts: 4 };

type World = RolesWorkspace;
const world = workspaceWithRoles;

async function newItems(w: World, n: number): Promise<string[]> {
  const r = await w.admin.post(`${w.base}/datastores/pr/items`, {
    items: Array.from({ length: n }, (_, i) => ({ title: `item ${i}`, fields: { amount: i } })),
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.ids;
}

async function addHook(
  w: World,
  url: string,
  body: Record<string, unknown> = {},
): Promise<{ id: string; secret: string }> {
  const r = await w.admin.post(`${w.base}/webhooks`, { url, ...body });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return { id: r.body.id, secret: r.body.secret };
}

/** Submits a batch as `who` and waits for its end. */
async function run(w: World, who: Client, body: Record<string, unknown>): Promise<any> {
  const r = await who.post(`${w.base}/batches`, body);
  assert.equal(r.status, 202, JSON.stringify(r.body));
  return waitForBatch({ api: w.admin, ws: w.ws }, r.body.id, { timeoutMs: 60_000 });
}

async function deliveries(w: World, hookId: string, query = ''): Promise<any[]> {
  const out: any[] = [];
  let cursor: string | null = null;
  do {
    const r: { status: number; body: any } = await w.admin.get(
      `${w.base}/webhooks/${hookId}/deliveries?limit=100${query}${cursor ? `&cursor=${cursor}` : ''}`,
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    out.push(...r.body.deliveries);
    cursor = r.body.next_cursor;
  } while (cursor);
  return out;
}

/** Waits until the webhook has `n` deliveries and every one is finished (succeeded or dead). */
async function settled(w: World, hookId: string, n: number): Promise<any[]> {
  return until(
    `${n} settled deliveries of webhook ${hookId}`,
    () => deliveries(w, hookId),
    (all) => all.length >= n && all.every((d) => d.state === 'succeeded' || d.state === 'dead'),
    { show: (all) => JSON.stringify(all.map((d) => [d.event_type, d.state, d.attempt_count])) },
  );
}

const ofBatch = (rs: Received[], batchId: string) =>
  rs
    .filter((r) => r.json.data.batch?.id === batchId || r.json.data.ticket?.batch_id === batchId)
    .map((r) => r.json.type as string)
    .sort();

describeEachDialect('webhooks', (dialect) => {
  let s: TestService;
  let r: Receiver;
  before(async () => {
    s = await startTestService(dialect, { settings: LOOPBACK, workerOptions: { idlePollMs: 50, webhooks: FAST } });
    r = await startReceiver();
  });
  after(async () => {
    await s.close();
    await r.close();
  });

  it('creation shows the secret once; the URL must be http(s) without credentials; only known event types', async () => {
    const w = await world(s, 'crud');
    const created = await w.admin.post(`${w.base}/webhooks`, {
      url: `${r.url}#frag`,
      events: ['batch.finished', 'batch.created'],
      description: 'ops',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.match(created.body.secret, /^whsec_[A-Za-z0-9_-]{43}$/);
    assert.equal(created.body.url, r.url, 'the fragment is never sent, so it is not kept');
    assert.deepEqual(created.body.events, ['batch.created', 'batch.finished'], 'catalog order');
    assert.equal(created.body.active, true);
    const id = created.body.id;
    const got = await w.admin.get(`${w.base}/webhooks/${id}`);
    assert.equal(got.status, 200);
    assert.equal(got.body.secret, undefined);
    const list = await w.admin.get(`${w.base}/webhooks`);
    assert.deepEqual(
      list.body.webhooks.map((h: any) => h.id),
      [id],
    );
    const patched = await w.admin.patch(`${w.base}/webhooks/${id}`, {
      active: false,
      description: null,
      events: ['ticket.decided'],
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.deepEqual(
      [patched.body.active, patched.body.description, patched.body.events],
      [false, null, ['ticket.decided']],
    );
    for (const res of [got, list, patched]) assert.ok(!JSON.stringify(res.body).includes(created.body.secret));

    for (const url of ['ftp://example.com/x', 'http://user:pw@example.com/x', 'not a url', 'file:///etc/passwd']) {
      const bad = await w.admin.post(`${w.base}/webhooks`, { url });
      assert.equal(bad.status, 400, url);
      assert.equal(bad.body.error.code, 'WEBHOOK_URL_NOT_ALLOWED', url);
    }
    const badType = await w.admin.post(`${w.base}/webhooks`, { url: r.url, events: ['batch.exploded'] });
    assert.equal(badType.body.error.code, 'VALIDATION_FAILED');
    const shortSecret = await w.admin.post(`${w.base}/webhooks`, { url: r.url, secret: 'short' });
    assert.equal(shortSecret.body.error.code, 'VALIDATION_FAILED');
    assert.equal((await w.admin.get(`${w.base}/webhooks`)).body.webhooks.length, 1, 'refusals created nothing');

    // Each event fans out to every webhook: a workspace has at most 50.
    for (let i = 1; i < 50; i++)
      assert.equal((await w.admin.post(`${w.base}/webhooks`, { url: r.url, active: false })).status, 201);
    const over = await w.admin.post(`${w.base}/webhooks`, { url: r.url });
    assert.deepEqual([over.status, over.body.error.code], [409, 'CONFLICT']);

    const gone = await w.admin.delete(`${w.base}/webhooks/${id}`);
    assert.equal(gone.status, 204);
    assert.equal((await w.admin.get(`${w.base}/webhooks/${id}`)).body.error.code, 'WEBHOOK_NOT_FOUND');
    assert.equal((await w.admin.get(`${w.base}/webhooks/${id}/deliveries/${id}`)).body.error.code, 'WEBHOOK_NOT_FOUND');
    assert.equal(
      (await w.admin.post(`${w.base}/webhooks`, { url: r.url, active: false })).status,
      201,
      'a deletion frees a place',
    );
  });

  it('batch and ticket events arrive signed, with the event id header, the workspace and the object', async () => {
    const w = await world(s, 'events');
    const { id: hookId, secret } = await addHook(w, r.url);
    const ids = await newItems(w, 3);
    const b1 = await run(w, w.member, { operation: 'action', action: 'submit', target: { ids }, comment: 'please' });
    const b2 = await run(w, w.approver, {
      operation: 'approve',
      target: { datastore: 'pr', conditions: [] },
      comment: 'fine',
    });
    assert.deepEqual([b1.state, b1.succeeded, b2.state, b2.succeeded], ['succeeded', 3, 'succeeded', 3]);
    // Per batch: created, started, finished and one ticket event per item.
    const all = await settled(w, hookId, 12);
    assert.equal(all.length, 12);
    const mine = r.received.filter((x) => x.json?.workspace_id === w.ws);
    assert.equal(new Set(mine.map((x) => x.json.id)).size, 12);

    for (const x of mine) {
      assert.ok(verifySignature(secret, x.headers['batchgate-signature'], x.body), `signature of ${x.json.type}`);
      assert.ok(
        !verifySignature('whsec_wrong', x.headers['batchgate-signature'], x.body),
        'another secret does not verify',
      );
      assert.equal(x.headers['batchgate-event-id'], x.json.id);
      assert.equal(x.headers['batchgate-event-type'], x.json.type);
      assert.match(String(x.headers['batchgate-delivery-id']), /^\d{19}$/);
      assert.equal(x.headers['content-type'], 'application/json');
      assert.deepEqual(Object.keys(x.json), ['id', 'type', 'occurred_at', 'workspace_id', 'data']);
      assert.ok(!Number.isNaN(Date.parse(x.json.occurred_at)));
    }
    const batchEvents = ['batch.created', 'batch.finished', 'batch.started'];
    assert.deepEqual(ofBatch(mine, b1.id), [...batchEvents, 'ticket.assigned', 'ticket.assigned', 'ticket.assigned']);
    assert.deepEqual(ofBatch(mine, b2.id), [...batchEvents, 'ticket.decided', 'ticket.decided', 'ticket.decided']);

    const finished = mine.find((x) => x.json.type === 'batch.finished' && x.json.data.batch.id === b1.id)!.json.data
      .batch;
    assert.deepEqual(
      [
        finished.state,
        finished.total,
        finished.succeeded,
        finished.failed,
        finished.skipped,
        finished.pending,
        finished.notify,
        finished.operation,
      ],
      ['succeeded', 3, 3, 0, 0, 0, true, 'action'],
    );
    const created = mine.find((x) => x.json.type === 'batch.created' && x.json.data.batch.id === b1.id)!.json.data
      .batch;
    assert.deepEqual([created.state, created.pending], ['queued', 3]);
    const assigned = mine.filter((x) => x.json.type === 'ticket.assigned').map((x) => x.json.data.ticket);
    assert.deepEqual(assigned.map((t) => t.item.id).sort(), [...ids].sort());
    for (const t of assigned) {
      assert.deepEqual(
        [t.state, t.action, t.assignee_role, t.item.status, t.comment, t.batch_id],
        ['pending', 'submit', 'approver', 'submitted', 'please', b1.id],
      );
    }
    const decided = mine.filter((x) => x.json.type === 'ticket.decided').map((x) => x.json.data.ticket);
    assert.deepEqual(decided.map((t) => t.id).sort(), assigned.map((t) => t.id).sort());
    for (const t of decided) {
      assert.deepEqual(
        [t.state, t.decided_by, t.decision_comment, t.item.status, t.batch_id],
        ['approved', w.approverId, 'fine', 'approved', b2.id],
      );
    }

    // The delivery log: one 200 attempt each, with its duration and the receiver's answer.
    for (const d of all) {
      assert.equal(d.state, 'succeeded');
      assert.equal(d.attempt_count, 1);
      assert.deepEqual(
        d.attempts.map((a: any) => [a.attempt, a.status_code, a.error, a.response_snippet]),
        [[1, 200, null, 'ok']],
      );
      assert.ok(d.attempts[0].duration_ms >= 0 && d.delivered_at);
    }
    const one = await w.admin.get(`${w.base}/webhooks/${hookId}/deliveries/${all[0].id}`);
    assert.equal(one.status, 200);
    assert.equal(one.body.payload.id, all[0].event_id);
    const filtered = await deliveries(w, hookId, '&event_type=ticket.decided');
    assert.equal(filtered.length, 3);
  });

  it("notify: false silences the ticket events of that batch, not its batch events nor anyone else's", async () => {
    const w = await world(s, 'quiet');
    const { id: hookId } = await addHook(w, r.url);
    const ids = await newItems(w, 4);
    const submitted = await w.member.post(`${w.base}/batches`, {
      operation: 'action',
      action: 'submit',
      target: { ids: ids.slice(0, 3) },
      notify: false,
    });
    assert.equal(submitted.status, 202);
    assert.equal(submitted.body.notify, false);
    const b1 = await waitForBatch({ api: w.admin, ws: w.ws }, submitted.body.id, { timeoutMs: 60_000 });
    assert.equal(b1.notify, false);
    const b2 = await run(w, w.approver, { operation: 'reject', target: { ids: [] }, notify: false });
    const tickets = (await w.admin.get(`${w.base}/tickets?state=pending`)).body.tickets.map((t: any) => t.id);
    const b3 = await run(w, w.approver, {
      operation: 'approve',
      target: { ids: tickets },
      notify: false,
      comment: 'ok',
    });
    assert.equal(b3.succeeded, 3);
    // Outside any quiet batch: a single-item submit still notifies.
    const single = await w.member.post(`${w.base}/items/${ids[3]}/actions/submit`, {});
    assert.equal(single.status, 200);

    // created + started + finished for b1 and b3; created + finished for the empty b2; one ticket.assigned.
    const all = await settled(w, hookId, 9);
    assert.equal(all.length, 9);
    const mine = r.received.filter((x) => x.json?.workspace_id === w.ws);
    assert.deepEqual(ofBatch(mine, b1.id), ['batch.created', 'batch.finished', 'batch.started']);
    assert.deepEqual(ofBatch(mine, b2.id), ['batch.created', 'batch.finished']);
    assert.deepEqual(ofBatch(mine, b3.id), ['batch.created', 'batch.finished', 'batch.started']);
    const lone = mine.filter((x) => x.json.type.startsWith('ticket.'));
    assert.deepEqual(
      lone.map((x) => [x.json.type, x.json.data.ticket.item.id, x.json.data.ticket.batch_id]),
      [['ticket.assigned', ids[3], null]],
    );
    const finished = mine.find((x) => x.json.type === 'batch.finished' && x.json.data.batch.id === b1.id)!;
    assert.equal(finished.json.data.batch.notify, false);
  });

  it('retries after 500s with backoff, and the delivery log shows every attempt', async () => {
    const w = await world(s, 'retry');
    const { id: hookId, secret } = await addHook(w, r.url, { events: ['batch.finished'] });
    const failures = new Map<string, number>();
    const was = r.answer;
    r.answer = (x, n) => {
      if (x.json?.workspace_id !== w.ws) return was(x, n);
      const k = failures.get(x.json.id) ?? 0;
      failures.set(x.json.id, k + 1);
      return k < 2 ? { status: 500, body: `boom ${k + 1}` } : { status: 200, body: 'finally' };
    };
    try {
      const b = await run(w, w.member, { operation: 'action', action: 'touch', target: { ids: await newItems(w, 2) } });
      const [d] = await settled(w, hookId, 1);
      assert.equal(d.state, 'succeeded');
      assert.equal(d.attempt_count, 3);
      assert.deepEqual(
        d.attempts.map((a: any) => [a.attempt, a.status_code, a.response_snippet]),
        [
          [1, 500, 'boom 1'],
          [2, 500, 'boom 2'],
          [3, 200, 'finally'],
        ],
      );
      const got = r.received.filter((x) => x.json?.workspace_id === w.ws);
      assert.equal(got.length, 3);
      assert.ok(
        got.every(
          (x) =>
            x.json.id === d.event_id &&
            x.json.data.batch.id === b.id &&
            verifySignature(secret, x.headers['batchgate-signature'], x.body),
        ),
      );
      assert.ok(
        got.every((x) => x.body === got[0]!.body),
        'every attempt sends the same body',
      );
      // The first retry waits at least half the base (30 ms), the second at least half of twice that.
      assert.ok(got[1]!.at - got[0]!.at >= 14, `first backoff ${got[1]!.at - got[0]!.at} ms`);
      assert.ok(got[2]!.at - got[1]!.at >= 29, `second backoff ${got[2]!.at - got[1]!.at} ms`);
    } finally {
      r.answer = was;
    }
  });

  it('a delivery that cannot even be signed is a failed attempt, and ends dead rather than leased forever', async () => {
    const w = await world(s, 'unsignable');
    const { id: hookId } = await addHook(w, r.url, { events: ['batch.finished'] });
    await s.db.ctx.db.updateTable('webhook').set({ secret: 'v9.from-the-future' }).where('id', '=', hookId).execute();
    await run(w, w.member, { operation: 'action', action: 'touch', target: { ids: [] } });
    const [d] = await settled(w, hookId, 1);
    assert.deepEqual([d.state, d.attempt_count], ['dead', 4]);
    assert.ok(
      d.attempts.every(
        (a: any) => a.status_code === null && /^internal: A stored webhook secret has an unknown format/.test(a.error),
      ),
      JSON.stringify(d.attempts),
    );
    assert.ok(!r.received.some((x) => x.json?.workspace_id === w.ws), 'nothing was sent unsigned');
  });

  it('redelivery sends the same event (same id and body) again as a new delivery', async () => {
    const w = await world(s, 'again');
    const { id: hookId, secret } = await addHook(w, r.url, { events: ['batch.created'] });
    await run(w, w.member, { operation: 'action', action: 'touch', target: { ids: await newItems(w, 1) } });
    const [first] = await settled(w, hookId, 1);
    const again = await w.admin.post(`${w.base}/webhooks/${hookId}/deliveries/${first.id}/redeliver`, {});
    assert.equal(again.status, 202, JSON.stringify(again.body));
    assert.deepEqual(
      [again.body.redelivery_of, again.body.event_id, again.body.state, again.body.attempt_count],
      [first.id, first.event_id, 'pending', 0],
    );
    const both = await settled(w, hookId, 2);
    assert.deepEqual(
      both.map((d) => d.state),
      ['succeeded', 'succeeded'],
    );
    const got = r.received.filter((x) => x.json?.workspace_id === w.ws);
    assert.equal(got.length, 2);
    assert.equal(got[0]!.body, got[1]!.body);
    assert.deepEqual(
      got.map((x) => x.headers['batchgate-event-id']),
      [first.event_id, first.event_id],
    );
    assert.deepEqual(
      got.map((x) => x.headers['batchgate-delivery-id']),
      [first.id, again.body.id],
    );
    assert.ok(got.every((x) => verifySignature(secret, x.headers['batchgate-signature'], x.body)));
    const unknown = await w.admin.post(`${w.base}/webhooks/${hookId}/deliveries/${hookId}/redeliver`, {});
    assert.equal(unknown.body.error.code, 'DELIVERY_NOT_FOUND');
  });

  it("a webhook of one workspace never receives another workspace's events", async () => {
    const a = await world(s, 'tenant A');
    const b = await world(s, 'tenant B');
    const ra = await startReceiver();
    const rb = await startReceiver();
    try {
      const ha = await addHook(a, ra.url);
      const hb = await addHook(b, rb.url);
      const ba = await run(a, a.member, {
        operation: 'action',
        action: 'submit',
        target: { ids: await newItems(a, 2) },
      });
      const bb = await run(b, b.member, {
        operation: 'action',
        action: 'submit',
        target: { ids: await newItems(b, 3) },
      });
      await settled(a, ha.id, 5);
      await settled(b, hb.id, 6);
      assert.ok(
        ra.received.every(
          (x) => x.json.workspace_id === a.ws && verifySignature(ha.secret, x.headers['batchgate-signature'], x.body),
        ),
      );
      assert.ok(
        rb.received.every(
          (x) => x.json.workspace_id === b.ws && verifySignature(hb.secret, x.headers['batchgate-signature'], x.body),
        ),
      );
      assert.equal(ofBatch(ra.received, bb.id).length, 0);
      assert.equal(ofBatch(rb.received, ba.id).length, 0);
      assert.equal(ra.eventIds().size, 5);
      assert.equal(rb.eventIds().size, 6);
      // Nor can B's admin read or redeliver A's webhook.
      assert.equal((await b.admin.get(`${b.base}/webhooks/${ha.id}/deliveries`)).body.error.code, 'WEBHOOK_NOT_FOUND');
      assert.equal((await b.admin.get(`${a.base}/webhooks/${ha.id}`)).body.error.code, 'WORKSPACE_NOT_FOUND');
    } finally {
      await ra.close();
      await rb.close();
    }
  });

  it('pause, cancel and a failed batch send batch.paused, batch.finished (cancelled) and batch.failed', async () => {
    const w = await world(s, 'states');
    const { id: hookId } = await addHook(w, r.url, { events: ['batch.paused', 'batch.finished', 'batch.failed'] });
    const ids = await newItems(w, 2);
    const later = await w.member.post(`${w.base}/batches`, {
      operation: 'action',
      action: 'touch',
      target: { ids },
      start_at: new Date(Date.now() + 3_600_000).toISOString(),
    });
    assert.equal((await w.member.post(`${w.base}/batches/${later.body.id}/pause`, {})).status, 200);
    assert.equal((await w.member.post(`${w.base}/batches/${later.body.id}/cancel`, {})).status, 200);

    // A chunk that keeps crashing its worker: ended here through the engine's own statements, as runChunk does
    // after MAX_CHUNK_ATTEMPTS. Its start is an hour away, so the service's worker never claims it.
    const doomed = await w.member.post(`${w.base}/batches`, {
      operation: 'action',
      action: 'touch',
      target: { ids },
      start_at: new Date(Date.now() + 3_600_000).toISOString(),
    });
    const ctx = s.db.ctx;
    await ctx.db.updateTable('batch').set({ state: 'running' }).where('id', '=', doomed.body.id).execute();
    await ctx.db
      .updateTable('work_chunk')
      .set({ state: 'running', lease_owner: 'test-owner', lease_until: Date.now() + 60_000 })
      .where('batch_id', '=', doomed.body.id)
      .execute();
    const chunk = await ctx.db
      .selectFrom('work_chunk')
      .selectAll()
      .where('batch_id', '=', doomed.body.id)
      .executeTakeFirstOrThrow();
    await ctx.db.transaction().execute(async (trx) => {
      const tx = { ...ctx, db: trx };
      assert.ok(await failChunk(tx, chunk, 'test-owner', 'simulated crash'));
      assert.ok(await finalizeIfDone(tx, chunk.batch_id));
    });

    const all = await settled(w, hookId, 3);
    const mine = r.received.filter((x) => x.json?.workspace_id === w.ws).map((x) => x.json);
    const by = (type: string) => mine.find((e) => e.type === type)!.data.batch;
    assert.deepEqual([by('batch.paused').id, by('batch.paused').state], [later.body.id, 'paused']);
    assert.deepEqual(
      [by('batch.finished').id, by('batch.finished').state, by('batch.finished').skipped],
      [later.body.id, 'cancelled', 2],
    );
    assert.deepEqual(
      [by('batch.failed').id, by('batch.failed').state, by('batch.failed').failed, by('batch.failed').error],
      [doomed.body.id, 'failed', 2, 'simulated crash'],
    );
    assert.equal(all.length, 3);
  });

  it("a cancel cut off before it skipped the items is finished by the workers' maintenance, with one batch.finished", async () => {
    const w = await world(s, 'halfcancel');
    const { id: hookId } = await addHook(w, r.url, { events: ['batch.finished'] });
    const ids = await newItems(w, 3);
    const b = await w.member.post(`${w.base}/batches`, {
      operation: 'action',
      action: 'touch',
      target: { ids },
      start_at: new Date(Date.now() + 3_600_000).toISOString(),
    });
    // What cancelBatch's first transaction commits (controls.ts), and nothing after it: the process died there.
    const ctx = s.db.ctx;
    await ctx.db
      .updateTable('work_chunk')
      .set({ state: 'done', lease_owner: null, lease_until: null })
      .where('batch_id', '=', b.body.id)
      .execute();
    await ctx.db
      .updateTable('batch')
      .set({ state: 'cancelled', finished_at: Date.now() })
      .where('id', '=', b.body.id)
      .execute();
    const [d] = await settled(w, hookId, 1);
    const sent = r.received.filter((x) => x.json?.workspace_id === w.ws).map((x) => x.json);
    assert.equal(sent.length, 1);
    assert.equal(d.event_type, 'batch.finished');
    assert.deepEqual(
      [sent[0].data.batch.id, sent[0].data.batch.state, sent[0].data.batch.skipped, sent[0].data.batch.total],
      [b.body.id, 'cancelled', 3, 3],
    );
    const items = await w.member.get(`${w.base}/batches/${b.body.id}/items`);
    assert.deepEqual(
      items.body.items.map((i: any) => [i.state, i.error_code]),
      ids.map(() => ['skipped', 'BATCH_CANCELLED']),
    );
    // Later maintenance passes find nothing left to do and send nothing more.
    await new Promise((res) => setTimeout(res, 5_500));
    assert.equal((await deliveries(w, hookId)).length, 1);
  });

  it('the secret never appears in a response after creation, nor in the logs', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    // With a key, secrets are sealed at rest (the shared service `s` has none: its rows are the plain kind).
    const logged = await startTestService(dialect, {
      settings: { ...LOOPBACK, secretKey: randomBytes(32) },
      logger: pino({ level: 'trace' }, sink),
      workerOptions: { idlePollMs: 50, webhooks: FAST },
    });
    const flaky = await startReceiver((_x, n) => (n % 2 === 0 ? { status: 500, body: 'no' } : { status: 200 }));
    try {
      const w = await world(logged, 'secrets');
      const bodies: string[] = [];
      const keep = (res: { body: unknown }) => {
        bodies.push(JSON.stringify(res.body));
        return res;
      };
      const supplied = 'my-own-secret-0123456789';
      const created = await w.admin.post(`${w.base}/webhooks`, { url: flaky.url, secret: supplied });
      assert.equal(created.body.secret, supplied, 'a supplied secret is shown back once, like a generated one');
      const hookId = created.body.id;
      const generated = await w.admin.post(`${w.base}/webhooks`, { url: flaky.url, active: false });
      const rotated = 'rotated-secret-9876543210';
      keep(await w.admin.patch(`${w.base}/webhooks/${hookId}`, { secret: rotated, description: 'rotated' }));
      keep(await w.admin.patch(`${w.base}/webhooks/${hookId}`, { secret: 'bad' }));
      await run(w, w.member, { operation: 'action', action: 'submit', target: { ids: await newItems(w, 2) } });
      const all = await settled(w, hookId, 5);
      assert.ok(
        all.some((d) => d.attempt_count > 1),
        'some attempts failed and were logged',
      );
      assert.ok(
        flaky.received.every(
          (x) => x.headers['batchgate-signature'] && verifySignature(rotated, x.headers['batchgate-signature'], x.body),
        ),
      );
      keep(await w.admin.get(`${w.base}/webhooks`));
      keep(await w.admin.get(`${w.base}/webhooks/${hookId}`));
      keep(await w.admin.get(`${w.base}/webhooks/${generated.body.id}`));
      keep(await w.admin.get(`${w.base}/webhooks/${hookId}/deliveries`));
      keep(await w.admin.get(`${w.base}/webhooks/${hookId}/deliveries/${all[0].id}`));
      keep(await w.admin.post(`${w.base}/webhooks/${hookId}/deliveries/${all[0].id}/redeliver`, {}));
      keep(await w.member.get(`${w.base}/webhooks`));
      keep(await logged.app.inject({ method: 'GET', url: '/openapi.json' }).then((x) => ({ body: x.body })));
      await settled(w, hookId, 6);
      const stored = await logged.db.ctx.db
        .selectFrom('webhook')
        .select(['id', 'secret'])
        .where('id', 'in', [hookId, generated.body.id])
        .execute();
      assert.equal(stored.length, 2);
      for (const row of stored) assert.match(row.secret, /^v1\./, 'sealed under BATCHGATE_SECRET_KEY');
      const log = lines.join('');
      assert.ok(log.length > 1000 && /webhook delivery failed/.test(log), 'the flow was logged, failures included');
      for (const secret of [supplied, rotated, generated.body.secret]) {
        assert.ok(!bodies.some((b) => b.includes(secret)), 'no response after creation carries a secret');
        assert.ok(!log.includes(secret), 'no log line carries a secret');
        assert.ok(!stored.some((row) => row.secret.includes(secret)), 'no row carries it in clear');
      }
    } finally {
      await logged.close();
      await flaky.close();
    }
  });

  it('timeouts are retried, then the delivery is dead; a redelivery of it goes through', async () => {
    const short = await startTestService(dialect, {
      settings: LOOPBACK,
      workerOptions: { idlePollMs: 50, webhooks: { ...FAST, timeoutMs: 300, maxAttempts: 2 } },
    });
    const slow = await startReceiver((_x, n) => (n < 2 ? { status: 200, delayMs: 3000 } : { status: 204 }));
    try {
      const w = await world(short, 'slow');
      const { id: hookId } = await addHook(w, slow.url, { events: ['batch.finished'] });
      await run(w, w.member, { operation: 'action', action: 'touch', target: { ids: [] } });
      const [dead] = await settled(w, hookId, 1);
      assert.equal(dead.state, 'dead');
      assert.deepEqual(
        dead.attempts.map((a: any) => [a.attempt, a.status_code, a.error]),
        [
          [1, null, 'timed out after 300 ms'],
          [2, null, 'timed out after 300 ms'],
        ],
      );
      assert.ok(
        dead.attempts.every((a: any) => a.duration_ms >= 250),
        JSON.stringify(dead.attempts),
      );
      assert.equal(dead.last_error, 'timed out after 300 ms');
      const again = await w.admin.post(`${w.base}/webhooks/${hookId}/deliveries/${dead.id}/redeliver`, {});
      assert.equal(again.status, 202);
      const both = await settled(w, hookId, 2);
      const redelivered = both.find((d) => d.id === again.body.id);
      // Its last attempt is the 204 (an earlier one may meet the 300 ms limit on a loaded machine, and is retried).
      assert.deepEqual([redelivered.state, redelivered.attempts.at(-1).status_code], ['succeeded', 204]);
      assert.deepEqual([...slow.eventIds()], [dead.event_id]);
    } finally {
      await short.close();
      await slow.close();
    }
  });

  it(
    'no event is lost or doubled across a restart: stopped with deliveries pending, a new service sends each once',
    { timeout: 120_000 },
    async () => {
      const db = await openTestDb(dialect);
      let up = false;
      const oks = new Map<string, number>();
      const recv = await startReceiver((x) => {
        if (!up) return { status: 503, body: 'down' };
        oks.set(x.json.id, (oks.get(x.json.id) ?? 0) + 1);
        return { status: 200 };
      });
      try {
        // The receiver is down while the first service runs: every delivery fails and waits for its retry.
        const patient = { ...FAST, maxAttempts: 1000, backoffMaxMs: 100 };
        const first = await startTestService(dialect, {
          db,
          settings: LOOPBACK,
          workerOptions: { idlePollMs: 50, webhooks: patient },
        });
        const w = await world(first, 'restart');
        const { id: hookId, secret } = await addHook(w, recv.url);
        await run(w, w.member, { operation: 'action', action: 'submit', target: { ids: await newItems(w, 20) } });
        await run(w, w.approver, { operation: 'approve', target: { datastore: 'pr', conditions: [] } });
        await recv.waitFor((rs) => rs.length >= 46, 60_000, 'failed attempts');
        await first.close();
        const states = await db.ctx.db
          .selectFrom('webhook_delivery')
          .select('state')
          .where('webhook_id', '=', hookId)
          .execute();
        assert.equal(states.length, 46, 'created, started, finished and 20 ticket events per batch');
        assert.ok(
          states.every((d) => d.state === 'pending'),
          'stopped with every delivery pending',
        );

        up = true;
        const second = await startTestService(dialect, {
          db,
          settings: LOOPBACK,
          workerOptions: { idlePollMs: 50, webhooks: FAST },
        });
        try {
          const events = await db.ctx.db
            .selectFrom('webhook_event')
            .select('id')
            .where('workspace_id', '=', w.ws)
            .execute();
          assert.equal(events.length, 46);
          await until(
            'every delivery through',
            () =>
              db.ctx.db
                .selectFrom('webhook_delivery')
                .select('id')
                .where('webhook_id', '=', hookId)
                .where('state', '<>', 'succeeded')
                .execute(),
            (left) => left.length === 0,
            { show: (left) => `${left.length} deliveries left` },
          );
          assert.deepEqual([...oks.keys()].sort(), events.map((e) => e.id).sort(), 'every event delivered');
          assert.ok(
            [...oks.values()].every((n) => n === 1),
            'each event id accepted exactly once',
          );
          assert.ok(recv.received.every((x) => verifySignature(secret, x.headers['batchgate-signature'], x.body)));
        } finally {
          await second.close();
        }
      } finally {
        await recv.close();
        await db.close();
      }
    },
  );

  it('two delivery loops on one database never send the same delivery twice', { timeout: 120_000 }, async () => {
    const counts = new Map<string, number>();
    const busy = await startReceiver((x) => {
      counts.set(x.json.id, (counts.get(x.json.id) ?? 0) + 1);
      return { status: 200, delayMs: 5 };
    });
    const other = await makeEngine(s.db.ctx, s.db.opened);
    other.startWorker({ idlePollMs: 50, webhooks: { ...FAST, concurrency: 4 } });
    try {
      const w = await world(s, 'pair');
      const { id: hookId } = await addHook(w, busy.url, { events: ['ticket.assigned'] });
      await run(w, w.member, { operation: 'action', action: 'submit', target: { ids: await newItems(w, 150) } });
      await settled(w, hookId, 150);
      assert.equal(counts.size, 150);
      assert.deepEqual([...new Set(counts.values())], [1], 'each delivery sent once');
    } finally {
      await other.close();
      await busy.close();
    }
  });
});

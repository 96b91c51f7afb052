import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, it } from 'node:test';
import { sql } from 'kysely';
import type { Ctx } from '../../src/core/context.ts';
import { getDatastore } from '../../src/core/datastores.ts';
import type { Actor } from '../../src/core/operations/types.ts';
import { createUser } from '../../src/core/users.ts';
import { createWorkspace } from '../../src/core/workspaces.ts';
import { findBatch } from '../../src/engine/batches.ts';
import { finalizeIfDone } from '../../src/engine/finalize-if-done.ts';
import { cancelBatch, pauseBatch, resumeBatch } from '../../src/engine/controls.ts';
import { claimChunk } from '../../src/engine/sql/claim-chunk.ts';
import { completeChunk } from '../../src/engine/sql/complete-chunk.ts';
import { submitBatch, type SubmitInput } from '../../src/engine/submit.ts';
import type { Dialect } from '../../src/db/capabilities.ts';
import { describeEachDialect, openTestDb, type TestDb } from '../helpers/db.ts';
import { PURCHASE_DS, startTestService, type Client, type TestService } from '../helpers/service.ts';
import { waitForBatch } from '../helpers/wait.ts';

/** A user administering two workspaces, as core actors. */
async function twoWorkspaces(ctx: Ctx): Promise<[Actor, Actor]> {
  const user = await createUser(ctx, { name: 'u', isSystemAdmin: true });
  const principal = { userId: user.id, name: user.name, isSystemAdmin: true };
  const a = await createWorkspace(ctx, principal, { name: 'a' });
  const b = await createWorkspace(ctx, principal, { name: 'b' });
  return [
    { principal, workspaceId: a.id, role: 'admin' },
    { principal, workspaceId: b.id, role: 'admin' },
  ];
}

let fake = 0;
/** A batch of `chunks` ten-target chunks. The claim never reads the targets, so they need not exist. */
async function batchOf(ctx: Ctx, actor: Actor, chunks: number, extra: Partial<SubmitInput> = {}): Promise<string> {
  const ids = Array.from({ length: chunks * 10 }, () => String(7_000_000_000_000_000_000n + BigInt(++fake)));
  const { batch } = await submitBatch(
    ctx,
    actor,
    { operation: 'update', fields: { x: 1 }, target: { ids }, ...extra },
    { chunkSize: 10 },
  );
  return batch.id;
}

/** Claims up to `n` chunks one after another, finishing each at once; the batch of each, in claim order. */
async function claimSequence(ctx: Ctx, n: number): Promise<string[]> {
  const order: string[] = [];
  for (let i = 0; i < n; i++) {
    const c = await claimChunk(ctx, 'w', 60_000);
    if (!c) break;
    order.push(c.batch_id);
    assert.ok(await completeChunk(ctx, c.id, 'w'));
    await finalizeIfDone(ctx, c.batch_id);
  }
  return order;
}

const count = (xs: string[], x: string) => xs.filter((y) => y === x).length;
function longestRun(xs: string[], x: string): number {
  let best = 0;
  let run = 0;
  for (const y of xs) best = Math.max(best, (run = y === x ? run + 1 : 0));
  return best;
}

describeEachDialect('fair scheduling: who gets the next chunk', (dialect) => {
  let db: TestDb;
  let a: Actor;
  let b: Actor;

  beforeEach(async () => {
    db = await openTestDb(dialect);
    [a, b] = await twoWorkspaces(db.ctx);
  });
  afterEach(() => db.close());

  it('shares chunks in proportion to priority, and alternates equal ones', async () => {
    const hi = await batchOf(db.ctx, a, 40, { priority: 30 });
    const lo = await batchOf(db.ctx, b, 40, { priority: 10 });
    const seq = await claimSequence(db.ctx, 40);
    assert.equal(seq.length, 40);
    // 30 : 10 priorities pay 334 and 1000 pass per ten-item chunk: three chunks of one per chunk of the other.
    assert.ok(Math.abs(count(seq, hi) - 30) <= 1, `priority 30 got ${count(seq, hi)} of 40`);
    assert.ok(Math.abs(count(seq, lo) - 10) <= 1, `priority 10 got ${count(seq, lo)} of 40`);
    for (let i = 0; i + 4 <= seq.length; i += 4)
      assert.ok(seq.slice(i, i + 4).includes(lo), `no window of four without the low priority: ${i}`);

    const x = await batchOf(db.ctx, a, 10);
    const y = await batchOf(db.ctx, a, 10);
    // hi and lo still have chunks: pause them so x and y compete alone.
    await pauseBatch(db.ctx, (await findBatch(db.ctx, hi))!);
    await pauseBatch(db.ctx, (await findBatch(db.ctx, lo))!);
    const even = await claimSequence(db.ctx, 20);
    assert.equal(even.length, 20);
    for (let i = 1; i < even.length; i++)
      assert.notEqual(even[i], even[i - 1], `equal priorities alternate: ${even.join(' ')}`);
    assert.equal(count(even, x), 10);
    assert.equal(count(even, y), 10);
  });

  it('gives the next claim to a batch submitted behind a long one, and no catch-up burst to one that sat out', async () => {
    const big = await batchOf(db.ctx, a, 300);
    assert.deepEqual(new Set(await claimSequence(db.ctx, 50)), new Set([big]));

    const small = await batchOf(db.ctx, b, 3);
    const next = await claimSequence(db.ctx, 6);
    assert.equal(next[0], small, 'the newcomer is claimed first');
    assert.deepEqual(next.slice(0, 5), [small, big, small, big, small], 'then it alternates with the long batch');

    // Paused while the big batch ran 30 chunks: resumed, it does not get 30 in a row.
    const paused = await batchOf(db.ctx, b, 20);
    await pauseBatch(db.ctx, (await findBatch(db.ctx, paused))!);
    assert.deepEqual(new Set(await claimSequence(db.ctx, 30)), new Set([big]));
    await resumeBatch(db.ctx, (await findBatch(db.ctx, paused))!);
    const afterResume = await claimSequence(db.ctx, 10);
    assert.equal(afterResume[0], paused);
    assert.ok(
      count(afterResume, paused) <= 6 && longestRun(afterResume, paused) <= 2,
      `after resume: ${afterResume.map((x) => (x === big ? 'B' : 'p')).join('')}`,
    );

    // Scheduled while the big batch ran 30 chunks: once due, it is lifted level with the others on its first claim.
    // The clock is the context's, moved by hand: the claim reads no other.
    await pauseBatch(db.ctx, (await findBatch(db.ctx, paused))!);
    let t = Date.now();
    const clocked = { ...db.ctx, now: () => t };
    const later = await batchOf(clocked, b, 20, { start_at: t + 60_000 });
    assert.deepEqual(new Set(await claimSequence(clocked, 30)), new Set([big]), 'not claimed before it is due');
    t += 61_000;
    const afterDue = await claimSequence(clocked, 10);
    assert.equal(afterDue[0], later);
    // Without the lift it would take all 10 (it is 30 chunks behind); with it, at most two in a row.
    assert.ok(
      count(afterDue, later) <= 6 && longestRun(afterDue, later) <= 2,
      `once due: ${afterDue.map((x) => (x === big ? 'B' : 'l')).join('')}`,
    );
  });

  it('holds each workspace to its concurrency limit, over concurrent claims too', async () => {
    const x = await batchOf(db.ctx, a, 10);
    const y = await batchOf(db.ctx, b, 10);
    const held = [];
    for (let i = 0; i < 5; i++) held.push(await claimChunk(db.ctx, 'w', 60_000, { workspaceLimit: 2 }));
    assert.equal(held[4], null, 'both workspaces are at their limit');
    const running = held.slice(0, 4).map((c) => c!);
    for (const [ws, batch] of [
      [a.workspaceId, x],
      [b.workspaceId, y],
    ] as const) {
      const mine = running.filter((c) => c.batch_id === batch);
      assert.equal(mine.length, 2, `workspace ${ws} runs two`);
      assert.deepEqual(mine.map((c) => c.slot).sort(), [0, 1]);
      assert.ok(mine.every((c) => c.workspace_id === ws));
    }
    // Freeing slot 0 of x's workspace lets exactly one more of its chunks in, into that slot.
    const freed = running.find((c) => c.batch_id === x && c.slot === 0)!;
    assert.ok(await completeChunk(db.ctx, freed.id, 'w'));
    const again = await claimChunk(db.ctx, 'w', 60_000, { workspaceLimit: 2 });
    assert.equal(again?.batch_id, x);
    assert.equal(again?.slot, 0);
    assert.equal(await claimChunk(db.ctx, 'w', 60_000, { workspaceLimit: 2 }), null);
    // No limit: the claim ignores the slots.
    assert.ok(await claimChunk(db.ctx, 'w', 60_000));

    // Eight claims at once against a limit of 3 (on PostgreSQL they race for slots; the losers look again).
    const c = await createWorkspace(db.ctx, a.principal, { name: 'c' });
    const solo = await batchOf(db.ctx, { ...a, workspaceId: c.id }, 12);
    await pauseBatch(db.ctx, (await findBatch(db.ctx, x))!);
    await pauseBatch(db.ctx, (await findBatch(db.ctx, y))!);
    const got = await Promise.all(
      Array.from({ length: 8 }, (_, i) => claimChunk(db.ctx, `c${i}`, 60_000, { workspaceLimit: 3 })),
    );
    const soloRunning = got.filter((g) => g?.batch_id === solo);
    assert.equal(soloRunning.length, 3, `got ${got.map((g) => g?.batch_id === solo).join(',')}`);
    assert.deepEqual(soloRunning.map((g) => g!.slot).sort(), [0, 1, 2]);
  });
});

/** A service with a worker, and a workspace with the purchase-request datastore whose owner is `admin`. */
async function serviceWithWorkspace(dialect: Dialect): Promise<{ s: TestService; ws: string; admin: Client }> {
  const s = await startTestService(dialect);
  const admin = (await s.user('owner')).api;
  const ws = (await admin.post('/api/v1/workspaces', { name: 'F' })).body.id;
  assert.equal((await admin.post(`/api/v1/workspaces/${ws}/datastores`, PURCHASE_DS)).status, 201);
  return { s, ws, admin };
}

describeEachDialect('fair scheduling: a worker is never held by one batch', (dialect) => {
  let s: TestService;
  let ws: string;
  let admin: Client;
  const base = () => `/api/v1/workspaces/${ws}`;

  before(async () => ({ s, ws, admin } = await serviceWithWorkspace(dialect)));
  after(() => s.close());

  async function items(n: number): Promise<string[]> {
    const r = await admin.post(`${base()}/datastores/pr/items`, {
      items: Array.from({ length: n }, (_, i) => ({ title: `t${i}`, status: 'approved' })),
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.ids;
  }

  it('runs a batch submitted behind a rate-limited one while that one waits', async () => {
    const slow = await admin.post(`${base()}/batches`, {
      operation: 'action',
      action: 'reopen',
      max_rate: 2,
      target: { ids: await items(30) },
    });
    await waitForBatch({ api: admin, ws }, slow.body.id, { states: ['running'] });
    const quick = await admin.post(`${base()}/batches`, {
      operation: 'action',
      action: 'order',
      target: { ids: await items(5) },
    });
    const done = await waitForBatch({ api: admin, ws }, quick.body.id, { timeoutMs: 10_000 });
    assert.equal(done.state, 'succeeded');
    const still = (await admin.get(`${base()}/batches/${slow.body.id}`)).body;
    assert.equal(still.state, 'running');
    assert.ok(still.pending >= 20, `the rate-limited batch has ${still.pending} left`);
    assert.equal((await admin.post(`${base()}/batches/${slow.body.id}/cancel`, {})).status, 200);
  });

  it('cancels a big batch at once, and workers settle a cancel an earlier batchgate cut short', async () => {
    const actor: Actor = {
      principal: { userId: s.admin.id, name: s.admin.name, isSystemAdmin: true },
      workspaceId: ws,
      role: 'admin',
    };
    const later = { start_at: Date.now() + 3_600_000 };
    const big = await batchOf(s.db.ctx, actor, 1200, later);
    const cancelled = await cancelBatch(s.db.ctx, (await findBatch(s.db.ctx, big))!);
    assert.deepEqual([cancelled.state, cancelled.skipped, cancelled.pending], ['cancelled', 12_000, 0]);

    // As an earlier batchgate left a cancel whose canceller died after its first transaction: cancelled, no item
    // counted skipped yet.
    const cut = await batchOf(s.db.ctx, actor, 700, later);
    await s.db.ctx.db.updateTable('work_chunk').set({ state: 'done' }).where('batch_id', '=', cut).execute();
    await s.db.ctx.db.updateTable('batch').set({ state: 'cancelled' }).where('id', '=', cut).execute();
    const done = await waitForBatch({ api: admin, ws }, cut, { states: ['cancelled'], timeoutMs: 20_000 });
    assert.equal(done.pending + done.skipped, 7000);
    await waitForBatch(s.db, cut, { until: (b) => b.pending === 0 });
    assert.equal((await findBatch(s.db.ctx, cut))!.skipped, 7000);
  });

  it('changes priority while running, and refuses it once finished', async () => {
    const r = await admin.post(`${base()}/batches`, {
      operation: 'action',
      action: 'reopen',
      max_rate: 5,
      priority: 3,
      target: { ids: await items(10) },
    });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.equal(r.body.priority, 3);
    const p = await admin.post(`${base()}/batches/${r.body.id}/reprioritize`, { priority: 40 });
    assert.equal(p.status, 200, JSON.stringify(p.body));
    assert.equal(p.body.priority, 40);
    assert.equal((await admin.get(`${base()}/batches/${r.body.id}`)).body.priority, 40);
    const bad = await admin.post(`${base()}/batches/${r.body.id}/reprioritize`, { priority: 101 });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'VALIDATION_FAILED');
    await admin.post(`${base()}/batches/${r.body.id}/cancel`, {});
    const late = await admin.post(`${base()}/batches/${r.body.id}/reprioritize`, { priority: 5 });
    assert.equal(late.status, 409);
    assert.equal(late.body.error.code, 'BATCH_STATE');
    const def = await admin.post(`${base()}/batches`, {
      operation: 'action',
      action: 'order',
      dry_run: true,
      target: { ids: await items(1) },
    });
    assert.equal(def.body.priority, 10, 'the default priority');
  });
});

const MILLION = 1_000_000;

describeEachDialect('fair scheduling: 100 items behind 1,000,000', (dialect) => {
  let s: TestService;
  let ws: string;
  let admin: Client;
  const base = () => `/api/v1/workspaces/${ws}`;

  before(async () => {
    ({ s, ws, admin } = await serviceWithWorkspace(dialect));
    const bulk = {
      name: 'Bulk',
      display_id: 'bulk',
      fields: [],
      statuses: [
        { display_id: 'open', name: 'Open' },
        { display_id: 'done', name: 'Done' },
      ],
      actions: [{ display_id: 'close', name: 'Close', from: ['open'], to: 'done' }],
    };
    assert.equal((await admin.post(`${base()}/datastores`, bulk)).status, 201);
    // A million items, generated inside the database: the API would take minutes to import them.
    const ds = await getDatastore(s.db.ctx, ws, 'bulk');
    const ctx = s.db.ctx;
    const series =
      ctx.caps.dialect === 'sqlite'
        ? sql`with recursive n(i) as (select 1 union all select i + 1 from n where i < ${MILLION}) select i from n`
        : sql`select i from generate_series(1, ${MILLION}) as i`;
    const id =
      ctx.caps.dialect === 'sqlite'
        ? sql`printf('%019d', 3000000000000000000 + i)`
        : sql`(3000000000000000000 + i)::text`;
    const now = Date.now();
    await sql`insert into item (id, workspace_id, datastore_id, title, status_id, fields, rev_no, created_at, created_by, updated_at, updated_by)
      select ${id}, ${ws}, ${ds.id}, 'bulk', ${ds.statuses[0]!.id}, '{}', 1, ${now}, null, ${now}, null from (${series}) t`.execute(
      ctx.db,
    );
    if (ctx.caps.dialect === 'postgres') await sql`analyze item`.execute(ctx.db);
  });
  after(() => s.close());

  it('starts the small batch at once and finishes it long before the big one', async () => {
    // The big batch goes through the real submit path: its million targets and thousand chunks are real.
    const big = await admin.post(`${base()}/batches`, {
      operation: 'action',
      action: 'close',
      target: { datastore: 'bulk', conditions: [] },
    });
    assert.equal(big.status, 202, JSON.stringify(big.body));
    assert.equal(big.body.total, MILLION);
    await waitForBatch({ api: admin, ws }, big.body.id, { states: ['running'], timeoutMs: 60_000 });

    const ids = (
      await admin.post(`${base()}/datastores/pr/items`, {
        items: Array.from({ length: 100 }, (_, i) => ({ title: `s${i}`, status: 'approved' })),
      })
    ).body.ids;
    const small = await admin.post(`${base()}/batches`, { operation: 'action', action: 'order', target: { ids } });
    assert.equal(small.status, 202);
    const done = await waitForBatch({ api: admin, ws }, small.body.id, { timeoutMs: 30_000 });
    const bigNow = (await admin.get(`${base()}/batches/${big.body.id}`)).body;

    assert.equal(done.state, 'succeeded');
    assert.equal(done.succeeded, 100);
    const startedMs = Date.parse(done.started_at) - Date.parse(done.created_at);
    const finishedMs = Date.parse(done.finished_at) - Date.parse(done.created_at);
    console.log(
      `# ${dialect}: 100 items behind 1M: started after ${startedMs} ms, finished after ${finishedMs} ms; the big batch had ${bigNow.succeeded} done`,
    );
    // Counted, not timed: the big batch's items that ran between the small one's submit and its start. The next
    // claim after the submit is the small batch's, so at most the chunk each worker loop had in hand (1000 items)
    // ran in between, and a slice begun just before; oldest-batch-first ran all million first.
    const between = await s.db.ctx.db
      .selectFrom('item_history')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('batch_id', '=', big.body.id)
      .where('created_at', '>', Date.parse(done.created_at))
      .where('created_at', '<', Date.parse(done.started_at))
      .executeTakeFirstOrThrow();
    const loops = dialect === 'sqlite' ? 1 : 2;
    assert.ok(
      Number(between.n) <= 2 * loops * 1000,
      `${between.n} items of the big batch ran before the small one started`,
    );
    assert.equal(bigNow.state, 'running', 'the big batch is still running');
    assert.ok(
      bigNow.pending > MILLION / 2,
      `the small batch finished with ${bigNow.pending} of the big one's items to go`,
    );

    const c = await admin.post(`${base()}/batches/${big.body.id}/cancel`, {});
    assert.equal(c.status, 200);
  });
});

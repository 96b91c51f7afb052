import assert from 'node:assert/strict';
import type { Dialect } from '../../src/db/capabilities.ts';
import { startTestService, type Client, type Res, type TestService } from '../helpers/service.ts';
import { person as newPerson, requestsDatastore, workspace, type Person } from '../helpers/worlds.ts';

/**
 * Two workspaces sharing an approver, and a third the approver is not in:
 *
 *   W1: owner1 (admin), member (member), approver (approver), approver2 (approver)
 *   W2: owner2 (admin), member2 (member), approver (approver)
 *   W3: owner3 (admin), member3 (member)
 *
 * Each datastore has one approval action per kind of ticket: `submit` (approver role, batch-approvable),
 * `manual` (not batch-approvable), `explain` (needs a comment) and `direct` (assigned to approver2 in W1,
 * to owner2/owner3 elsewhere).
 */
export interface Fixture {
  s: TestService;
  W1: string;
  W2: string;
  W3: string;
  owner1: Person;
  owner2: Person;
  owner3: Person;
  member: Person;
  member2: Person;
  member3: Person;
  approver: Person;
  approver2: Person;
  /** Opens a ticket in `ws` with `action`, by a member of it; returns the ticket id and its item id. */
  ticket(ws: string, action?: string): Promise<{ id: string; item: string }>;
  /** Many `submit` tickets at once. */
  tickets(ws: string, n: number): Promise<{ id: string; item: string }[]>;
  item(ws: string, itemId: string): Promise<any>;
  close(): Promise<void>;
}

const TERMINAL = ['succeeded', 'completed_with_errors', 'failed', 'cancelled'];

function approvalDs(directTo: string) {
  return requestsDatastore([
    { display_id: 'submit', name: 'Submit', approval: { approver_role: 'approver' } },
    {
      display_id: 'manual',
      name: 'Submit (one by one)',
      approval: { approver_role: 'approver', batch_approvable: false },
    },
    {
      display_id: 'explain',
      name: 'Submit (comment)',
      approval: { approver_role: 'approver', requires_comment: true },
    },
    { display_id: 'direct', name: 'Submit (direct)', approval: { approver_user_id: directTo } },
  ]);
}

export async function makeFixture(dialect: Dialect, opts: { worker?: boolean } = {}): Promise<Fixture> {
  const s = await startTestService(dialect, {
    worker: opts.worker !== false,
    workerOptions: { concurrency: 2, idlePollMs: 50 },
  });
  const person = (name: string, ws?: string, role?: string) => newPerson(s, name, ws, role);
  const owner1 = await person('owner1');
  const owner2 = await person('owner2');
  const owner3 = await person('owner3');
  const W1 = (await workspace(owner1.api, { name: 'W1' })).ws;
  const W2 = (await workspace(owner2.api, { name: 'W2' })).ws;
  const W3 = (await workspace(owner3.api, { name: 'W3' })).ws;
  const member = await person('member', W1, 'member');
  const member2 = await person('member2', W2, 'member');
  const member3 = await person('member3', W3, 'member');
  const approver = await person('approver', W1, 'approver');
  const put = await s.root.put(`/api/v1/workspaces/${W2}/members/${approver.id}`, { role: 'approver' });
  assert.equal(put.status, 200);
  const approver2 = await person('approver2', W1, 'approver');
  for (const [ws, owner, direct] of [
    [W1, owner1, approver2.id],
    [W2, owner2, owner2.id],
    [W3, owner3, owner3.id],
  ] as const) {
    const r = await owner.api.post(`/api/v1/workspaces/${ws}/datastores`, approvalDs(direct));
    assert.equal(r.status, 201, JSON.stringify(r.body));
  }
  const submitterOf = (ws: string) => (ws === W1 ? member : ws === W2 ? member2 : member3);

  async function tickets(ws: string, n: number, action = 'submit') {
    const api = submitterOf(ws).api;
    const made = await api.post(`/api/v1/workspaces/${ws}/datastores/req/items`, {
      items: Array.from({ length: n }, (_, i) => ({ title: `r${i}`, fields: { amount: i } })),
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const out: { id: string; item: string }[] = [];
    for (const item of made.body.ids as string[]) {
      const r = await api.post(`/api/v1/workspaces/${ws}/items/${item}/actions/${action}`, {});
      assert.equal(r.status, 200, JSON.stringify(r.body));
      out.push({ id: r.body.ticket.id, item });
    }
    return out;
  }

  return {
    s,
    W1,
    W2,
    W3,
    owner1,
    owner2,
    owner3,
    member,
    member2,
    member3,
    approver,
    approver2,
    ticket: async (ws, action = 'submit') => (await tickets(ws, 1, action))[0]!,
    tickets: (ws, n) => tickets(ws, n),
    item: async (ws, id) => (await s.root.get(`/api/v1/workspaces/${ws}/items/${id}`)).body,
    close: () => s.close(),
  };
}

export const check = (api: Client, userId: string, body: unknown): Promise<Res> =>
  api.post(`/batch_approvals/_check?user_id=${userId}`, body);
export const submit = (api: Client, userId: string, body: unknown): Promise<Res> =>
  api.post(`/batch_approvals/_submit?user_id=${userId}`, body);
export const progress = (api: Client, userId: string, batchNumber: string): Promise<Res> =>
  api.get(`/batch_approvals/_submit?user_id=${userId}&batch_number=${batchNumber}`);

/** Polls progress until the group is done; asserts the counts stay consistent on the way. */
export async function waitForGroup(api: Client, userId: string, batchNumber: string, timeoutMs = 20_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  for (;;) {
    const r = await progress(api, userId, batchNumber);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const p = r.body;
    assert.ok(p.processed >= last, 'processed never goes back');
    assert.ok(p.processed <= p.total);
    assert.equal(p.failed_tasks.length, p.failed_reasons.length);
    last = p.processed;
    if (TERMINAL.includes(p.state)) {
      assert.equal(p.processed, p.total, 'processed == total when done');
      return p;
    }
    if (Date.now() > deadline) throw new Error(`group ${batchNumber} stuck: ${JSON.stringify(p)}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

/**
 * Seeds a running service for the load bench through its own API (the typed client), so the data is exactly what
 * clients would have made: a workspace, a datastore of `items` items, an approver with 200 pending tickets (the
 * `_check` body), and some finished batches (what `GET batch status` reads).
 */
import { createClient, type BatchgateClient } from '../../src/client/index.ts';
import { ok } from '../../src/cli/request.ts';
import { TERMINAL } from '../../src/core/states.ts';

export const DATASTORE = 'load';
/** The seed's `_check` limit (docs/batch-approvals.md). */
export const CHECK_IDS = 200;
const FINISHED_BATCHES = 20;
const IMPORT_CHUNK = 5000;
const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel'];

export interface Seed {
  ws: string;
  admin: { token: string };
  approver: { id: string; token: string };
  itemIds: string[];
  /** Pending tickets the approver may decide in a batch. */
  ticketIds: string[];
  /** Batches that ended `succeeded`. */
  finishedBatchIds: string[];
  /** Items no seeded ticket is on: the bench's batches update these. */
  freeItemIds: string[];
}

const DATASTORE_DEF = {
  name: 'Load',
  display_id: DATASTORE,
  fields: [
    { display_id: 'n', name: 'N', type: 'number' },
    { display_id: 'name', name: 'Name', type: 'text' },
    { display_id: 'cat', name: 'Category', type: 'select', options: ['a', 'b', 'c'] },
    { display_id: 'note', name: 'Note', type: 'text' },
  ],
  statuses: [
    { display_id: 'open', name: 'Open' },
    { display_id: 'pending', name: 'Pending' },
    { display_id: 'approved', name: 'Approved' },
    { display_id: 'rejected', name: 'Rejected' },
  ],
  actions: [
    {
      display_id: 'submit',
      name: 'Submit',
      from: ['open'],
      to: 'approved',
      approval: { pending_status: 'pending', reject_status: 'rejected', approver_role: 'approver' },
    },
  ],
};

/** Polls each batch until it is terminal; answers the final batches. */
export async function waitTerminal(bg: BatchgateClient, ws: string, ids: readonly string[], timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  const out = [];
  for (const id of ids) {
    for (;;) {
      const b = await ok(bg.GET('/api/v1/workspaces/{ws}/batches/{id}', { params: { path: { ws, id } } }));
      if ((TERMINAL as readonly string[]).includes(b.state)) {
        out.push(b);
        break;
      }
      if (Date.now() > deadline) throw new Error(`batch ${id} still ${b.state} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return out;
}

export async function seed(baseUrl: string, adminToken: string, items: number): Promise<Seed> {
  if (items < CHECK_IDS + FINISHED_BATCHES * 10 + 100)
    throw new Error(`--items must be at least ${CHECK_IDS + FINISHED_BATCHES * 10 + 100}`);
  const admin = createClient({ baseUrl, token: adminToken });
  const ws = (await ok(admin.POST('/api/v1/workspaces', { body: { name: 'load' } }))).id;
  await ok(
    admin.POST('/api/v1/workspaces/{ws}/datastores', { params: { path: { ws } }, body: DATASTORE_DEF as never }),
  );

  const user = await ok(admin.POST('/api/v1/users', { body: { name: 'approver' } }));
  const { token: approverToken } = await ok(
    admin.POST('/api/v1/users/{user_id}/tokens', { params: { path: { user_id: user.id } }, body: {} }),
  );
  await ok(
    admin.PUT('/api/v1/workspaces/{ws}/members/{user_id}', {
      params: { path: { ws, user_id: user.id } },
      body: { role: 'approver' },
    }),
  );

  const itemIds: string[] = [];
  for (let from = 0; from < items; from += IMPORT_CHUNK) {
    const rows = Array.from({ length: Math.min(IMPORT_CHUNK, items - from) }, (_, k) => {
      const i = from + k;
      return {
        title: `item ${i}`,
        fields: { n: i, name: `${WORDS[i % WORDS.length]} ${i}`, cat: ['a', 'b', 'c'][i % 3] },
      };
    });
    const res = await ok(
      admin.POST('/api/v1/workspaces/{ws}/datastores/{ds}/items', {
        params: { path: { ws, ds: DATASTORE } },
        body: { items: rows } as never,
      }),
    );
    itemIds.push(...(res as unknown as { ids: string[] }).ids);
  }

  // 200 pending tickets for the approver, opened by one batch the way a client would.
  const { id: submitId } = await ok(
    admin.POST('/api/v1/workspaces/{ws}/batches', {
      params: { path: { ws } },
      body: { operation: 'action', action: 'submit', target: { ids: itemIds.slice(0, CHECK_IDS) } },
    }),
  );
  const finished = [];
  for (let k = 0; k < FINISHED_BATCHES; k++) {
    const ids = itemIds.slice(CHECK_IDS + k * 10, CHECK_IDS + (k + 1) * 10);
    finished.push(
      await ok(
        admin.POST('/api/v1/workspaces/{ws}/batches', {
          params: { path: { ws } },
          body: { operation: 'update', fields: { note: `seed ${k}` }, target: { ids } },
        }),
      ),
    );
  }
  const ended = await waitTerminal(admin, ws, [submitId, ...finished.map((b) => b.id)], 120_000);
  const bad = ended.filter((b) => b.state !== 'succeeded');
  if (bad.length)
    throw new Error(`seed batches did not succeed: ${JSON.stringify(bad.map((b) => [b.id, b.state, b.failed]))}`);

  const approver = createClient({ baseUrl, token: approverToken });
  const { tickets } = await ok(
    approver.GET('/api/v1/workspaces/{ws}/tickets', {
      params: { path: { ws }, query: { assignee: 'me', state: 'pending', limit: 1000 } },
    }),
  );
  if (tickets.length !== CHECK_IDS)
    throw new Error(`expected ${CHECK_IDS} pending tickets for the approver, got ${tickets.length}`);
  const ticketIds = tickets.map((t) => t.id);
  // `_check` must do its real work under load: every one of these is approvable by this user.
  const check = await fetch(`${baseUrl}/batch_approvals/_check?user_id=${user.id}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${approverToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(ticketIds),
  });
  const verdicts = (await check.json()) as { supported: boolean }[];
  if (check.status !== 200 || verdicts.length !== CHECK_IDS || verdicts.some((v) => !v.supported))
    throw new Error(`_check of the seeded tickets: ${check.status} ${JSON.stringify(verdicts).slice(0, 300)}`);

  return {
    ws,
    admin: { token: adminToken },
    approver: { id: user.id, token: approverToken },
    itemIds,
    ticketIds,
    finishedBatchIds: finished.map((b) => b.id),
    freeItemIds: itemIds.slice(CHECK_IDS + FINISHED_BATCHES * 10),
  };
}

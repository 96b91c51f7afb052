/**
 * The requests of the mixed workload, as autocannon request specs over a seeded service (bench/load/seed.ts).
 * Bodies that vary (search ranges, the items a batch updates, which batch to read) are made per request.
 */
import type { Request } from 'autocannon';
import { DATASTORE, type Seed } from './seed.ts';

export function requests(s: Seed) {
  const json = (token: string) => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });
  let k = 0;
  const words = ['alpha', 'echo', 'golf', '7', '42'];
  const search: Request = {
    method: 'POST',
    path: `/api/v1/workspaces/${s.ws}/datastores/${DATASTORE}/items/search`,
    headers: json(s.approver.token),
    setupRequest: (req) => {
      const lo = (k++ * 997) % Math.max(1, s.itemIds.length - 2000);
      const body = {
        conditions: [
          { id: 'n', search_value: [lo, lo + 2000] },
          { id: 'name', search_value: [words[k % words.length]] },
        ],
        per_page: 20,
        page: 1,
      };
      return { ...req, body: JSON.stringify(body) };
    },
  };
  const check: Request = {
    method: 'POST',
    path: `/batch_approvals/_check?user_id=${s.approver.id}`,
    headers: json(s.approver.token),
    body: JSON.stringify(s.ticketIds),
  };
  const free = s.freeItemIds;
  const submit: Request = {
    method: 'POST',
    path: `/api/v1/workspaces/${s.ws}/batches`,
    headers: json(s.admin.token),
    setupRequest: (req) => {
      const from = (k++ * 10) % (free.length - 10);
      return {
        ...req,
        body: JSON.stringify({
          operation: 'update',
          fields: { note: `load ${k}` },
          target: { ids: free.slice(from, from + 10) },
        }),
      };
    },
  };
  const status: Request = {
    method: 'GET',
    headers: { authorization: `Bearer ${s.approver.token}` },
    setupRequest: (req) => ({
      ...req,
      path: `/api/v1/workspaces/${s.ws}/batches/${s.finishedBatchIds[k++ % s.finishedBatchIds.length]}`,
    }),
  };
  return { search, check, submit, status };
}

import assert from 'node:assert/strict';
import type { Client, TestService } from '../helpers/service.ts';
import { workspace } from '../helpers/worlds.ts';

/** A datastore shaped like the Hexabase documentation's sample: text, select, users and file fields, a New → Approved workflow. */
export const SAMPLE_DS = {
  name: 'Sample DB',
  display_id: 'SampleDB',
  fields: [
    { display_id: 'TEXT_FIELD_1', name: 'Text', type: 'text' },
    { display_id: 'SELECT_FIELD_1', name: 'Select (option ids)', type: 'json' },
    { display_id: 'USER_FIELD_1', name: 'Users (user ids)', type: 'json' },
    { display_id: 'FILE_FIELD_1', name: 'Files (file ids)', type: 'json' },
    { display_id: 'amount', name: 'Amount', type: 'number' },
    { display_id: 'kind', name: 'Kind', type: 'select', options: ['a', 'b'] },
  ],
  statuses: [
    { display_id: 'New', name: 'New' },
    { display_id: 'Approved', name: 'Approved' },
    { display_id: 'Closed', name: 'Closed' },
  ],
  actions: [
    { display_id: 'UpdateAction', name: 'Approve', from: ['New'], to: 'Approved' },
    { display_id: 'CloseAction', name: 'Close', from: ['Approved'], to: 'Closed', roles: ['admin'] },
    { display_id: 'EditAction', name: 'Edit' },
  ],
};

export interface HexWorld {
  ws: string;
  dsId: string;
  owner: Client;
  member: Client;
  viewer: Client;
  memberId: string;
  /** `/api/v0/applications/{app}/datastores/SampleDB` */
  base: string;
}

export async function setupHexabase(s: TestService, projectId: string): Promise<HexWorld> {
  const owner = (await s.user('owner')).api;
  const { ws, datastores } = await workspace(owner, { name: 'Hexa', project_id: projectId }, [SAMPLE_DS]);
  const m = await s.user('member', ws, 'member');
  const viewer = (await s.user('viewer', ws, 'viewer')).api;
  return {
    ws,
    dsId: datastores[0].id,
    owner,
    member: m.api,
    viewer,
    memberId: m.user.id,
    base: `/api/v0/applications/${projectId}/datastores/SampleDB`,
  };
}

/** Imports `n` items through the native API; returns their ids in order. */
export async function importItems(
  api: Client,
  ws: string,
  n: number,
  status = 'New',
  fields: Record<string, unknown> = {},
): Promise<string[]> {
  const r = await api.post(`/api/v1/workspaces/${ws}/datastores/SampleDB/items`, {
    items: Array.from({ length: n }, (_, i) => ({ title: `item ${i}`, status, fields: { amount: i, ...fields } })),
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.ids;
}

export async function itemOf(api: Client, ws: string, id: string): Promise<any> {
  const r = await api.get(`/api/v1/workspaces/${ws}/items/${id}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

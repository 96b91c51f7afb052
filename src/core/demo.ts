import type { Ctx } from './context.ts';
import { createDatastore } from './datastores.ts';
import { createItems } from './items.ts';
import { issueToken } from './tokens.ts';
import { createUser } from './users.ts';
import { createWorkspace, setMember } from './workspaces.ts';

export interface DemoSeed {
  workspaceId: string;
  projectId: string;
  users: { name: string; role: string; id: string; token: string }[];
}

/**
 * A workspace to try the product on: a purchase-request workflow whose `submit` needs an approver, 40 sample
 * requests, and the DataArts datastores (project_id `demo`). Runs only on an empty database.
 */
export async function seedDemo(ctx: Ctx): Promise<DemoSeed> {
  const admin = await createUser(ctx, { name: 'Ada Admin', email: 'ada@example.com', isSystemAdmin: true });
  const approver = await createUser(ctx, { name: 'Alice Approver', email: 'alice@example.com' });
  const member = await createUser(ctx, { name: 'Bob Member', email: 'bob@example.com' });
  const viewer = await createUser(ctx, { name: 'Vic Viewer', email: 'vic@example.com' });
  const adminP = { userId: admin.id, name: admin.name, isSystemAdmin: true };
  const ws = await createWorkspace(ctx, adminP, { name: 'Demo', project_id: 'demo' });
  const access = { principal: adminP, workspaceId: ws.id, projectId: ws.project_id, role: 'admin' as const };
  await setMember(ctx, access, approver.id, 'approver');
  await setMember(ctx, access, member.id, 'member');
  await setMember(ctx, access, viewer.id, 'viewer');

  const ds = await createDatastore(ctx, ws.id, {
    name: 'Purchase requests',
    display_id: 'purchase_requests',
    fields: [
      { display_id: 'amount', name: 'Amount', type: 'number' },
      { display_id: 'vendor', name: 'Vendor', type: 'text' },
      { display_id: 'category', name: 'Category', type: 'select', options: ['hardware', 'software', 'services'] },
      { display_id: 'needed_by', name: 'Needed by', type: 'date' },
    ],
    statuses: [
      { display_id: 'draft', name: 'Draft' },
      { display_id: 'submitted', name: 'Submitted' },
      { display_id: 'approved', name: 'Approved' },
      { display_id: 'rejected', name: 'Rejected' },
      { display_id: 'ordered', name: 'Ordered' },
    ],
    actions: [
      {
        display_id: 'submit',
        name: 'Submit for approval',
        from: ['draft', 'rejected'],
        to: 'approved',
        approval: { pending_status: 'submitted', reject_status: 'rejected', approver_role: 'approver' },
      },
      { display_id: 'order', name: 'Place order', from: ['approved'], to: 'ordered', roles: ['admin', 'member'] },
      { display_id: 'reopen', name: 'Reopen', from: ['rejected', 'approved'], to: 'draft' },
    ],
  });
  const vendors = ['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli'];
  const categories = ['hardware', 'software', 'services'];
  await createItems(
    ctx,
    { ...access, principal: { userId: member.id, name: member.name, isSystemAdmin: false }, role: 'member' },
    ds,
    Array.from({ length: 40 }, (_, i) => ({
      title: `PR-${String(i + 1).padStart(4, '0')} ${vendors[i % 5]} ${categories[i % 3]}`,
      fields: {
        amount: 100 * ((i * 37) % 50) + 99,
        vendor: vendors[i % 5],
        category: categories[i % 3],
        needed_by: `2027-0${1 + (i % 9)}-15`,
      },
    })),
  );

  const users = [];
  for (const [u, role] of [
    [admin, 'admin (system admin)'],
    [approver, 'approver'],
    [member, 'member'],
    [viewer, 'viewer'],
  ] as const) {
    users.push({ name: u.name, role, id: u.id, token: await issueToken(ctx, u.id, 'demo') });
  }
  return { workspaceId: ws.id, projectId: 'demo', users };
}

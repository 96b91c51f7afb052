import { sql } from 'kysely';
import type { Ctx } from '../context.ts';
import { BIZ_TYPES } from '../dataarts-workflow.ts';
import { APPROVAL_STATUS_OF_TICKET, BIZ_OPERATIONS, TICKET_STATE_OF_DETAIL } from './enums.ts';
import { escapeLike } from './like.ts';
import type { DataartsScope } from './scope.ts';

/** SearchApprovals filters (the DataArts Studio API reference: SearchApprovals); all optional. */
export interface ApprovalQuery {
  biz_id?: string | undefined;
  name?: string | undefined;
  create_by?: string | undefined;
  approver?: string | undefined;
  approval_status?: 'DEVELOPING' | 'FINISHED' | undefined;
  approval_status_detail?: keyof typeof TICKET_STATE_OF_DETAIL | undefined;
  approval_type?: 'PUBLISH' | 'OFFLINE' | undefined;
  biz_type?: string | undefined;
  /** Epoch ms; only both together filter (a one-sided range is ignored, as DataArts does). */
  begin_time?: number | undefined;
  end_time?: number | undefined;
  limit: number;
  offset: number;
}

/** ApprovalVO: a ticket on a DataArts entity. */
export interface ApprovalView {
  id: string;
  tenant_id: string;
  name_ch: string;
  name_en: string;
  biz_id: string;
  biz_type: string;
  biz_info: string;
  biz_info_obj: Record<string, unknown>;
  biz_version: number;
  biz_status: string;
  approval_status: string;
  approval_type: string;
  submit_time: string;
  create_by: string | null;
  l1: null;
  l2: null;
  l3: null;
  approval_time: string;
  approver: string | null;
  email: null;
  msg: string | null;
  directory_path: null;
}

const TYPE_OF_ACTION: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(Object.entries(BIZ_OPERATIONS).map(([type, action]) => [action, type])),
);

const rfc3339 = (ms: number) => new Date(ms).toISOString();

/**
 * Tickets on the workspace's DataArts entities (items of the biz_type datastores), newest first. The filters
 * are SQL on both databases; `create_by` and `approver` match a user's name or id.
 */
export async function searchApprovals(
  ctx: Ctx,
  scope: DataartsScope,
  q: ApprovalQuery,
): Promise<{ total: number; records: ApprovalView[] }> {
  let base = ctx.db
    .selectFrom('ticket as t')
    .innerJoin('item as i', 'i.id', 't.item_id')
    .innerJoin('datastore as d', 'd.id', 't.datastore_id')
    .innerJoin('ds_action as a', 'a.id', 't.action_id')
    .leftJoin('ds_status as s', 's.id', 'i.status_id')
    .leftJoin('app_user as sub', 'sub.id', 't.submitter_id')
    .leftJoin('app_user as asg', 'asg.id', 't.assignee_id')
    .where('t.workspace_id', '=', scope.workspaceId)
    .where('d.display_id', 'in', [...BIZ_TYPES]);
  if (q.biz_id !== undefined) base = base.where('t.item_id', '=', q.biz_id);
  if (q.name) {
    const alive = ctx.caps.deadlineCheck(sql`i.id`);
    if (alive) base = base.where(alive);
    base = base.where(ctx.caps.ilike(sql`i.title`, `%${escapeLike(q.name)}%`));
  }
  if (q.create_by)
    base = base.where((eb) => eb.or([eb('sub.name', '=', q.create_by!), eb('t.submitter_id', '=', q.create_by!)]));
  if (q.approver)
    base = base.where((eb) => eb.or([eb('asg.name', '=', q.approver!), eb('t.assignee_id', '=', q.approver!)]));
  if (q.approval_status === 'DEVELOPING') base = base.where('t.state', '=', 'pending');
  if (q.approval_status === 'FINISHED') base = base.where('t.state', '<>', 'pending');
  if (q.approval_status_detail) base = base.where('t.state', '=', TICKET_STATE_OF_DETAIL[q.approval_status_detail]);
  if (q.approval_type) base = base.where('a.display_id', '=', BIZ_OPERATIONS[q.approval_type]);
  if (q.biz_type) base = base.where('d.display_id', '=', q.biz_type);
  if (q.begin_time !== undefined && q.end_time !== undefined) {
    base = base.where('t.created_at', '>=', q.begin_time).where('t.created_at', '<=', q.end_time);
  }
  const page = base
    .selectAll('t')
    .select([
      'i.title',
      'i.fields',
      'i.rev_no',
      'd.display_id as biz_type',
      'a.display_id as action',
      's.display_id as biz_status',
      'sub.name as submitter_name',
      'asg.name as assignee_name',
    ])
    .orderBy('t.id', 'desc')
    .limit(q.limit)
    .offset(q.offset);
  // Through ctx.reader: the name pattern is the caller's (src/db/query-limits.ts). The page first: a short page
  // holds the last matches, so its length gives the total without a count (as searchItems in core/items.ts).
  const rows = await ctx.reader.read(ctx.db, page.compile(), scope.workspaceId);
  const short = rows.length < q.limit && (rows.length > 0 || q.offset === 0);
  const n = short
    ? q.offset + rows.length
    : (
        await ctx.reader.read(
          ctx.db,
          base.select((eb) => eb.fn.countAll<number>().as('n')).compile(),
          scope.workspaceId,
        )
      )[0]!.n;
  return {
    total: Number(n),
    records: rows.map((r): ApprovalView => {
      const fields = ctx.caps.readJson<Record<string, unknown>>(r.fields) ?? {};
      const info = (fields.biz_info ?? {}) as Record<string, unknown>;
      return {
        id: r.id,
        tenant_id: scope.tenantId,
        name_ch: r.title,
        name_en: r.title,
        biz_id: r.item_id,
        biz_type: r.biz_type,
        biz_info: JSON.stringify(info),
        biz_info_obj: { ...info, id: r.item_id, name: r.title, status: r.biz_status },
        biz_version: r.rev_no,
        biz_status: r.biz_status ?? '',
        approval_status: APPROVAL_STATUS_OF_TICKET[r.state as keyof typeof APPROVAL_STATUS_OF_TICKET] ?? r.state,
        approval_type: TYPE_OF_ACTION[r.action] ?? r.action,
        submit_time: rfc3339(r.created_at),
        create_by: r.submitter_name,
        l1: null,
        l2: null,
        l3: null,
        approval_time: rfc3339(r.decided_at ?? r.created_at),
        approver: r.assignee_name ?? r.assignee_role,
        email: null,
        msg: r.decision_comment,
        directory_path: null,
      };
    }),
  };
}

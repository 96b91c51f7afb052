import type { WebhookRow } from '../../db/schema.ts';
import { fail } from '../../errors.ts';
import { requireCapability, type Access } from '../auth.ts';
import type { Ctx } from '../context.ts';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from './event-types.ts';
import { generateSecret, sealSecret } from './secret-store.ts';
import { checkWebhookUrl } from './url-policy.ts';

/** A webhook as the service shows it: never with its secret, which only creation returns. */
export interface Webhook {
  id: string;
  workspace_id: string;
  url: string;
  description: string | null;
  events: WebhookEventType[];
  active: boolean;
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

export interface WebhookInput {
  url: string;
  /** Subscribed event types; all of them when omitted. */
  events?: readonly WebhookEventType[];
  description?: string | null;
  active?: boolean;
  /** The signing secret; one is generated when omitted. */
  secret?: string;
}

export type WebhookPatch = Partial<WebhookInput>;

/**
 * Each event is sent to every subscribed webhook of its workspace, so their number bounds an event's fan-out: a
 * 1000-item slice writes at most 50,000 delivery rows.
 */
export const MAX_WEBHOOKS_PER_WORKSPACE = 50;

export function toWebhook(row: WebhookRow): Webhook {
  const { secret: _secret, events, active, ...rest } = row;
  return { ...rest, events: JSON.parse(events) as WebhookEventType[], active: active === 1 };
}

/** Subscriptions in catalog order, each once. */
function eventList(events: readonly WebhookEventType[] | undefined): string {
  const wanted = new Set(events ?? WEBHOOK_EVENT_TYPES);
  return JSON.stringify(WEBHOOK_EVENT_TYPES.filter((t) => wanted.has(t)));
}

/** The webhook row of the caller's workspace (WEBHOOK_NOT_FOUND otherwise); for workspace admins only. */
export async function requireWebhook(ctx: Ctx, access: Access, id: string): Promise<WebhookRow> {
  requireCapability(access, 'manage');
  const row = await ctx.db
    .selectFrom('webhook')
    .selectAll()
    .where('id', '=', id)
    .where('workspace_id', '=', access.workspaceId)
    .executeTakeFirst();
  if (!row) fail('WEBHOOK_NOT_FOUND');
  return row;
}

/** Creates a webhook; the answer is the only place its secret is ever shown. */
export async function createWebhook(
  ctx: Ctx,
  access: Access,
  input: WebhookInput,
): Promise<{ webhook: Webhook; secret: string }> {
  requireCapability(access, 'manage');
  const url = checkWebhookUrl(ctx.settings.webhooks, input.url);
  const { n } = await ctx.db
    .selectFrom('webhook')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('workspace_id', '=', access.workspaceId)
    .executeTakeFirstOrThrow();
  if (Number(n) >= MAX_WEBHOOKS_PER_WORKSPACE)
    fail('CONFLICT', `A workspace has at most ${MAX_WEBHOOKS_PER_WORKSPACE} webhooks.`);
  const now = ctx.now();
  const id = ctx.ids.next();
  const secret = input.secret ?? generateSecret();
  const row: WebhookRow = {
    id,
    workspace_id: access.workspaceId,
    url,
    description: input.description ?? null,
    events: eventList(input.events),
    active: input.active === false ? 0 : 1,
    secret: sealSecret(ctx.settings.secretKey, id, secret),
    created_by: access.principal.userId,
    created_at: now,
    updated_at: now,
  };
  await ctx.db.insertInto('webhook').values(row).execute();
  return { webhook: toWebhook(row), secret };
}

export async function listWebhooks(ctx: Ctx, access: Access): Promise<Webhook[]> {
  requireCapability(access, 'manage');
  const rows = await ctx.db
    .selectFrom('webhook')
    .selectAll()
    .where('workspace_id', '=', access.workspaceId)
    .orderBy('id')
    .execute();
  return rows.map(toWebhook);
}

export async function getWebhook(ctx: Ctx, access: Access, id: string): Promise<Webhook> {
  return toWebhook(await requireWebhook(ctx, access, id));
}

/** Changes what is given. A new `secret` replaces the old one at once (not echoed); deliveries still pending go to the new URL. */
export async function updateWebhook(ctx: Ctx, access: Access, id: string, patch: WebhookPatch): Promise<Webhook> {
  const row = await requireWebhook(ctx, access, id);
  const set: Partial<WebhookRow> = { updated_at: ctx.now() };
  if (patch.url !== undefined) set.url = checkWebhookUrl(ctx.settings.webhooks, patch.url);
  if (patch.events !== undefined) set.events = eventList(patch.events);
  if (patch.description !== undefined) set.description = patch.description;
  if (patch.active !== undefined) set.active = patch.active ? 1 : 0;
  if (patch.secret !== undefined) set.secret = sealSecret(ctx.settings.secretKey, row.id, patch.secret);
  await ctx.db.updateTable('webhook').set(set).where('id', '=', row.id).execute();
  return toWebhook({ ...row, ...set });
}

/** Deletes the webhook with its deliveries and their log; the events stay for the workspace's other webhooks. */
export async function deleteWebhook(ctx: Ctx, access: Access, id: string): Promise<void> {
  const row = await requireWebhook(ctx, access, id);
  await ctx.db.deleteFrom('webhook').where('id', '=', row.id).execute();
}

/** The workspace's active webhooks and what each takes: who an event goes to. */
export async function subscribers(ctx: Ctx, workspaceId: string): Promise<{ id: string; events: Set<string> }[]> {
  const rows = await ctx.db
    .selectFrom('webhook')
    .select(['id', 'events'])
    .where('workspace_id', '=', workspaceId)
    .where('active', '=', 1)
    .execute();
  return rows.map((r) => ({ id: r.id, events: new Set(JSON.parse(r.events) as string[]) }));
}

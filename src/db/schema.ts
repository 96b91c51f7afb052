/**
 * Row types: the database shape, kept apart from domain objects (src/core) and API schemas (src/api).
 * Portable column choices: ids are 19-digit text, times are epoch-ms bigints,
 * booleans are 0/1 integers, JSON is text on SQLite and jsonb on PostgreSQL (parsed at the repository edge).
 */
import type { Generated } from 'kysely';
import type {
  BatchState,
  ChunkState,
  DeliveryState,
  InvitationRowState,
  ItemState,
  TicketState,
} from '../core/states.ts';

export interface WorkspaceRow {
  id: string;
  name: string;
  project_id: string | null;
  created_by: string | null;
  created_at: number;
}

export interface UserRow {
  id: string;
  name: string;
  email: string | null;
  is_system_admin: number;
  created_at: number;
}

export interface ApiTokenRow {
  id: string;
  user_id: string;
  token_hash: string;
  label: string | null;
  created_at: number;
  last_used_at: number | null;
  /** Epoch ms after which the token is refused; null: never (migration 0012). */
  expires_at: number | null;
}

export interface MembershipRow {
  workspace_id: string;
  user_id: string;
  role: string;
  created_at: number;
}

export interface DatastoreRow {
  id: string;
  workspace_id: string;
  display_id: string;
  name: string;
  created_at: number;
  /** `{"status_ids": [...]}`: the released statuses (versions and drafts), or null (0005). */
  drafts: unknown;
}

export interface FieldRow {
  id: string;
  datastore_id: string;
  display_id: string;
  name: string;
  type: string;
  options: unknown;
  position: number;
}

export interface StatusRow {
  id: string;
  datastore_id: string;
  display_id: string;
  name: string;
  position: number;
}

export interface ActionRow {
  id: string;
  datastore_id: string;
  display_id: string;
  name: string;
  kind: string;
  from_status_ids: unknown;
  to_status_id: string | null;
  roles: unknown;
  set_fields: unknown;
  approval: unknown;
  position: number;
}

export interface ItemRow {
  id: string;
  workspace_id: string;
  datastore_id: string;
  title: string;
  status_id: string;
  fields: unknown;
  rev_no: number;
  created_at: number;
  created_by: string | null;
  updated_at: number;
  updated_by: string | null;
}

export interface HistoryRow {
  id: string;
  workspace_id: string;
  item_id: string;
  kind: string;
  user_id: string | null;
  action_id: string | null;
  from_status_id: string | null;
  to_status_id: string | null;
  comment: string | null;
  batch_id: string | null;
  ticket_id: string | null;
  changes: unknown;
  created_at: number;
  /** The item's rev_no after the change; null on rows written before 0008 (not revertible). */
  rev_no: number | null;
  /** What the change replaced, for a revert (src/core/undo.ts); null when only the status moved (0008). */
  undo: unknown;
  /** On a revert's rows: the batch whose change this undid (0008). */
  reverts_batch_id: string | null;
  /** When `user_id` acted in another user's name (the batch approval open API's user_id): that user (0011). */
  on_behalf_of: string | null;
}

export interface TicketRow {
  id: string;
  workspace_id: string;
  datastore_id: string;
  item_id: string;
  action_id: string;
  state: TicketState;
  assignee_id: string | null;
  assignee_role: string | null;
  submitter_id: string;
  prev_status_id: string;
  pending_status_id: string;
  payload: unknown;
  batch_approvable: number;
  requires_comment: number;
  reason: string | null;
  comment: string | null;
  decision_comment: string | null;
  decided_by: string | null;
  decided_at: number | null;
  created_at: number;
  updated_at: number;
  /** When `decided_by` decided in another user's name (the batch approval open API's user_id): that user (0011). */
  on_behalf_of: string | null;
}

/** An invitation to join a workspace, by user id or by email (0011). */
export interface InvitationRow {
  id: string;
  workspace_id: string;
  user_id: string | null;
  email: string | null;
  role: string;
  state: InvitationRowState;
  invited_by: string;
  created_at: number;
  expires_at: number;
  decided_at: number | null;
}

export interface MetaRow {
  key: string;
  value: string;
}

export interface BatchRow {
  id: string;
  workspace_id: string;
  operation: string;
  state: BatchState;
  params: unknown;
  submitted_by: string;
  total: number;
  succeeded: number;
  failed: number;
  skipped: number;
  dry_run: number;
  max_rate: number | null;
  not_before: number;
  start_at: number | null;
  idempotency_key: string | null;
  request_hash: string | null;
  attempt: number;
  source: string | null;
  error: string | null;
  /** Batches submitted together (one call over several workspaces) share a group id. */
  group_id: string | null;
  /** For a condition target with a limit: how many items matched before the limit cut them. */
  matched: number | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
  /** When retention purged (or began purging) the batch's per-item rows (the counters stay); null while they are kept. */
  items_purged_at: number | null;
  /** 1 while a purge of its rows is under way (set with items_purged_at, cleared after the last slice). */
  items_purge_pending: number;
  /** 1–100: the batch's weight in the fair share of workers (0008). */
  priority: number;
  /** Stride-scheduling clock: weighted items claimed so far; the claim takes the lowest (0008). */
  pass: number;
  /** The pass the batch's latest claim started from (0008). */
  base_pass: number;
}

export interface BatchItemRow {
  batch_id: string;
  seq: number;
  target_id: string;
  state: ItemState;
  error_code: string | null;
  error_message: string | null;
  attempts: number;
  updated_at: number | null;
  expected_rev: number | null;
  /** The datastore the target must be in (a DataArts biz_type), or null for any. */
  expected_datastore_id: string | null;
}

export interface BatchItemAttemptRow {
  batch_id: string;
  seq: number;
  attempt: number;
  error_code: string | null;
  error_message: string | null;
  finished_at: number | null;
}

export interface WorkChunkRow {
  id: string;
  batch_id: string;
  seq_from: number;
  seq_to: number;
  state: ChunkState;
  lease_owner: string | null;
  lease_until: number | null;
  attempts: number;
  /** The batch's workspace, for the per-workspace limit (0008). */
  workspace_id: string | null;
  /** While running under a per-workspace limit: which of the workspace's slots it holds (0008). */
  slot: number | null;
}

export interface DataartsApproverRow {
  id: string;
  workspace_id: string;
  user_id: string;
  approver_name: string;
  app_name: string | null;
  email: string | null;
  phone_number: string | null;
  email_notify: number;
  sms_notify: number;
  created_by: string;
  created_at: number;
}

/** A released version of an item: a snapshot taken when it entered a released status (0005). */
export interface ItemVersionRow {
  id: string;
  item_id: string;
  version: number;
  title: string;
  fields: unknown;
  status_id: string;
  created_at: number;
  created_by: string | null;
  batch_id: string | null;
}

/** The pending edit of an item in a released status: field values (and title) it would change (0005). */
export interface ItemDraftRow {
  item_id: string;
  title: string | null;
  fields: unknown;
  created_by: string | null;
  created_at: number;
  updated_by: string | null;
  updated_at: number;
}

/** A registered source database (0007); `secret` is the encrypted URL, never sent or logged. */
export interface DataConnectionRow {
  id: string;
  workspace_id: string;
  name: string;
  dialect: string;
  display_url: string;
  schema_name: string | null;
  secret: string;
  created_by: string;
  created_at: number;
}

/** A workspace's webhook endpoint (0009). `secret` is read and written only by src/core/webhooks/secret-store.ts. */
export interface WebhookRow {
  id: string;
  workspace_id: string;
  url: string;
  description: string | null;
  /** JSON array of subscribed event types. */
  events: string;
  active: number;
  secret: string;
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

/** An outbox event: the exact JSON body its deliveries send (0009). */
export interface WebhookEventRow {
  id: string;
  workspace_id: string;
  type: string;
  batch_id: string | null;
  body: string;
  occurred_at: number;
}

export interface WebhookDeliveryRow {
  id: string;
  webhook_id: string;
  event_id: string;
  state: DeliveryState;
  attempts: number;
  next_attempt_at: number;
  lease_owner: string | null;
  lease_until: number | null;
  redelivery_of: string | null;
  last_status: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  delivered_at: number | null;
}

export interface WebhookAttemptRow {
  delivery_id: string;
  attempt: number;
  started_at: number;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
  response_snippet: string | null;
}

export interface Schema {
  workspace: WorkspaceRow;
  app_user: UserRow;
  api_token: ApiTokenRow;
  membership: MembershipRow;
  datastore: DatastoreRow;
  ds_field: FieldRow;
  ds_status: StatusRow;
  ds_action: ActionRow;
  item: ItemRow;
  item_history: HistoryRow;
  ticket: TicketRow;
  bg_meta: MetaRow;
  batch: BatchRow;
  batch_item: BatchItemRow;
  batch_item_attempt: BatchItemAttemptRow;
  work_chunk: WorkChunkRow;
  dataarts_approver: DataartsApproverRow;
  item_version: ItemVersionRow;
  item_draft: ItemDraftRow;
  data_connection: DataConnectionRow;
  webhook: WebhookRow;
  webhook_event: WebhookEventRow;
  webhook_delivery: WebhookDeliveryRow;
  webhook_attempt: WebhookAttemptRow;
  invitation: InvitationRow;
}

export type { Generated };

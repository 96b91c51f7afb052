import type { paths } from '../client/schema.d.ts';

/** The native API's shapes, as far as the UI reads them (docs/api.md). */
export interface Me {
  id: string;
  name: string;
  email: string | null;
  is_system_admin: boolean;
}
export interface Workspace {
  id: string;
  name: string;
  project_id: string | null;
}
export interface Named {
  id: string;
  display_id: string;
  name: string;
}
export interface Field extends Named {
  type: 'text' | 'number' | 'date' | 'datetime' | 'select' | 'users' | 'json';
  options: string[] | null;
}
export interface Datastore extends Named {
  statuses: Named[];
  actions: Named[];
  fields: Field[];
}
export interface Item {
  id: string;
  datastore_id: string;
  title: string | null;
  status: string;
  status_name: string;
  fields: Record<string, unknown>;
  rev_no: number;
  created_at: string;
  updated_at: string;
}
/** One leaf of the search language (docs/api.md: Concepts → Conditions), as the API takes it. */
export interface Condition {
  id: string;
  search_value: (string | number | null)[];
  exact_match?: boolean;
  not_match?: boolean;
  include_null?: boolean;
}
export interface Ticket {
  id: string;
  item_id: string;
  datastore_id: string;
  action: string;
  state: string;
  batch_approvable: boolean;
  requires_comment: boolean;
  reason: string | null;
  comment: string | null;
  submitter_id: string;
  allow_self_approval: boolean;
  created_at: string;
}
export interface Batch {
  id: string;
  operation: string;
  state: string;
  total: number;
  succeeded: number;
  failed: number;
  skipped: number;
  pending: number;
  progress: number;
  percent: number;
  eta_seconds: number | null;
  items_per_second: number | null;
  dry_run: boolean;
  max_rate: number | null;
  priority: number;
  reverts_batch_id: string | null;
  action: string | null;
  comment: string | null;
  submitted_by: string;
  attempt: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}
export interface BatchItem {
  seq: number;
  target_id: string;
  state: string;
  error_code: string | null;
  error_message: string | null;
  attempts: number;
  updated_at: string | null;
}

export const TERMINAL = ['succeeded', 'completed_with_errors', 'failed', 'cancelled'];

// Webhooks, read off the generated client's types (type-only: nothing of it is bundled).
type Json<R> = R extends { content: { 'application/json': infer B } } ? B : never;
export type Webhook = Json<paths['/api/v1/workspaces/{ws}/webhooks/{id}']['get']['responses'][200]>;
export type CreatedWebhook = Json<paths['/api/v1/workspaces/{ws}/webhooks']['post']['responses'][201]>;
export type Delivery = Json<
  paths['/api/v1/workspaces/{ws}/webhooks/{id}/deliveries']['get']['responses'][200]
>['deliveries'][number];

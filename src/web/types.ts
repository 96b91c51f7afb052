/** The native API's shapes the UI reads, taken from the generated client types (type-only: nothing is bundled). */
import type { paths } from '../client/schema.d.ts';

type Json<R> = R extends { content: { 'application/json': infer B } } ? B : never;
type Get<P extends keyof paths> = paths[P] extends { get: { responses: { 200: infer R } } } ? Json<R> : never;
type Body<P extends keyof paths> = paths[P] extends {
  post: { requestBody?: { content: { 'application/json': infer B } } };
}
  ? B
  : never;

export type Me = Get<'/api/v1/me'>;
export type Workspace = Get<'/api/v1/workspaces'>['workspaces'][number];
export type Datastore = Get<'/api/v1/workspaces/{ws}/datastores'>['datastores'][number];
export type Field = Datastore['fields'][number];
type Search = '/api/v1/workspaces/{ws}/datastores/{ds}/items/search';
export type Item = Json<paths[Search]['post']['responses'][200]>['items'][number];
type SearchCondition = NonNullable<Body<Search>['conditions']>[number];
/** One leaf of the search language (docs/api.md: Concepts → Conditions), as the UI builds it: a field and its values. */
export type Condition = Required<Pick<SearchCondition, 'id' | 'search_value'>> &
  Pick<SearchCondition, 'exact_match' | 'not_match' | 'include_null'>;
export type Ticket = Get<'/api/v1/workspaces/{ws}/tickets'>['tickets'][number];
export type Batch = Get<'/api/v1/workspaces/{ws}/batches/{id}'>;
export type BatchItem = Get<'/api/v1/workspaces/{ws}/batches/{id}/items'>['items'][number];

export type Webhook = Get<'/api/v1/workspaces/{ws}/webhooks/{id}'>;
export type CreatedWebhook = Json<paths['/api/v1/workspaces/{ws}/webhooks']['post']['responses'][201]>;
export type Delivery = Get<'/api/v1/workspaces/{ws}/webhooks/{id}/deliveries'>['deliveries'][number];

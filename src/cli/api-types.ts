/** Request and response shapes the CLI works with, taken from the generated client types. */
import type { paths } from '../client/index.ts';

type Json<P extends keyof paths, M extends 'get' | 'post', S extends number> = paths[P][M] extends {
  responses: { [K in S]: { content: { 'application/json': infer T } } };
}
  ? T
  : never;
type Body<P extends keyof paths> = paths[P]['post'] extends {
  requestBody?: { content: { 'application/json': infer B } };
}
  ? B
  : never;

export type Batch = Json<'/api/v1/workspaces/{ws}/batches/{id}', 'get', 200>;
export type BatchItemsPage = Json<'/api/v1/workspaces/{ws}/batches/{id}/items', 'get', 200>;
export type Ticket = Json<'/api/v1/workspaces/{ws}/tickets/{id}', 'get', 200>;
export type Item = Json<'/api/v1/workspaces/{ws}/datastores/{ds}/items/search', 'post', 200>['items'][number];
export type Datastore = Json<'/api/v1/workspaces/{ws}/datastores/{ds}', 'get', 200>;
export type SubmitBody = Body<'/api/v1/workspaces/{ws}/batches'>;
export type SearchBody = Body<'/api/v1/workspaces/{ws}/datastores/{ds}/items/search'>;
export type Conditions = NonNullable<SearchBody['conditions']>;
export type ItemInput = Extract<
  Body<'/api/v1/workspaces/{ws}/datastores/{ds}/items'>,
  { items: unknown }
>['items'][number];

/**
 * The typed batchgate client (`batchgate/client`): openapi-fetch over the types generated from the service's
 * own OpenAPI document (src/client/schema.d.ts, native API only). Every call answers `{data, error, response}`;
 * `error` is the `{error: {code, message, details?}}` envelope on a 4xx.
 *
 *   const bg = createClient({ baseUrl: 'http://localhost:8080', token });
 *   const { data, error } = await bg.GET('/api/v1/workspaces/{ws}/batches/{id}', { params: { path: { ws, id } } });
 */
import createFetchClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { components, paths } from './schema.d.ts';

export type { components, paths };
export type BatchgateClient = Client<paths>;
export type ApiError = components['schemas']['ErrorResponse'];

export interface CreateClientOptions extends Omit<ClientOptions, 'baseUrl' | 'headers'> {
  /** The service's root URL, e.g. http://localhost:8080 (no /api/v1). */
  baseUrl: string;
  /** An API token, sent as `Authorization: Bearer <token>`. */
  token?: string | null;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
}

export function createClient({ baseUrl, token, headers, ...rest }: CreateClientOptions): BatchgateClient {
  return createFetchClient<paths>({
    ...rest,
    baseUrl: baseUrl.replace(/\/+$/, ''),
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
  });
}

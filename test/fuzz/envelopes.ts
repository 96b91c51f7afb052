/**
 * Which dialect answers a URL, and whether an error body is in that dialect's envelope with a catalog code whose
 * status is the one answered (docs/api.md: Errors, and each dialect's mapping table).
 */
import { DS_ERRORS } from '../../src/api/dataarts/ds-errors.ts';
import { Errors } from '../../src/errors.ts';

export type Dialect = 'native' | 'dataarts' | 'batch-approvals' | 'hexabase';

export function dialectOf(url: string): Dialect {
  // As the router sees it: `/v2/../design` is `/design`.
  const path = new URL(url, 'http://localhost').pathname;
  if (path.startsWith('/api/v0/')) return 'hexabase';
  if (/^\/v[12]\//.test(path)) return 'dataarts';
  if (path.startsWith('/batch_approvals/')) return 'batch-approvals';
  return 'native';
}

const HEXABASE_CODES = new Set([
  'INVALID_PARAMS',
  'NO_PRIVILEGES',
  'NOT_FOUND',
  'ITEM_REV_CONFLICT',
  'INVALID_VALUE',
  'SYSTEM_ERROR',
]);

function catalog(code: unknown, status: number): string | null {
  if (typeof code !== 'string' || !Object.hasOwn(Errors, code))
    return `code ${JSON.stringify(code)} is not in the catalog`;
  const want = Errors[code as keyof typeof Errors].status;
  return want === status ? null : `catalog status of ${code} is ${want}, answered ${status}`;
}

/** Null when `body` is a proper error answer of `dialect` for `status`, else what is wrong. */
export function envelopeProblem(dialect: Dialect, status: number, body: any): string | null {
  if (!body || typeof body !== 'object') return 'not a JSON object';
  switch (dialect) {
    case 'native':
      if (!body.error || typeof body.error !== 'object' || typeof body.error.message !== 'string')
        return 'no {error: {code, message}}';
      return catalog(body.error.code, status);
    case 'batch-approvals':
      if (typeof body.message !== 'string' || 'error' in body) return 'no flat {code, message}';
      return catalog(body.code, status);
    case 'dataarts': {
      const d = (DS_ERRORS as Record<string, { status: number }>)[body.error_code];
      if (!d || typeof body.error_msg !== 'string') return 'no {error_code: DS.60xx, error_msg}';
      return d.status === status ? null : `${body.error_code} is ${d.status}, answered ${status}`;
    }
    case 'hexabase': {
      // ExecuteAction's revision conflict (409) and ExecuteBulkAction over max_items (400) have their own shapes.
      if (status === 409 && Array.isArray(body.error) && body.error[0]?.error_code === 'ITEM_REV_CONFLICT') return null;
      if (status === 400 && body.has_error === true && body.result?.processed === 0 && Array.isArray(body.errors))
        return null;
      if (!HEXABASE_CODES.has(body.error_code))
        return `error_code ${JSON.stringify(body.error_code)} is not a Hexabase code`;
      if (
        typeof body.message !== 'string' ||
        !Array.isArray(body.errors) ||
        body.errors[0]?.error_code !== body.error_code
      )
        return 'not the Hexabase error envelope';
      return null;
    }
  }
}

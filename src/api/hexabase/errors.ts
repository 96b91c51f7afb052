/**
 * Catalog errors in Hexabase's envelope (the Hexabase API documentation (apidoc.hexabase.com)). Hexabase's own bodies are not uniform; this
 * one is the union of the documented ones, so a client reading any of them finds its keys:
 *
 *   {"error": <message, or "NOT_FOUND" for 404 as GetItemDetails answers>, "error_code": <Hexabase code>,
 *    "message": <message>, "description": <message>,
 *    "errors": [{"description", "error", "error_code", "error_level": "ERROR", "reference_id"?}]}
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../../errors.ts';
import { logServerError, toHttpError } from '../errors-http.ts';

export type HexabaseCode =
  'INVALID_PARAMS' | 'NO_PRIVILEGES' | 'NOT_FOUND' | 'ITEM_REV_CONFLICT' | 'INVALID_VALUE' | 'SYSTEM_ERROR';

/**
 * An action that is unknown, limited to other roles, or not valid from the item's status is one Hexabase
 * error: 403 NO_PRIVILEGES "invalid action_id or has no privileges to the user or current item status".
 */
const NO_PRIVILEGES: readonly ErrorCode[] = [
  'FORBIDDEN',
  'ACTION_NOT_PERMITTED',
  'NOT_ASSIGNEE',
  'SELF_APPROVAL_FORBIDDEN',
  'ACTION_NOT_FOUND',
  'WRONG_STATUS',
  'ITEM_PENDING_APPROVAL',
];

/** The Hexabase status and code of a catalog code. */
export function hexabaseCode(code: ErrorCode, status: number): { status: number; code: HexabaseCode } {
  // Hexabase has no throttling code of its own; a refused credential is NO_PRIVILEGES, at 401 or 429.
  if (code === 'UNAUTHENTICATED' || code === 'TOO_MANY_AUTH_FAILURES') return { status, code: 'NO_PRIVILEGES' };
  if (NO_PRIVILEGES.includes(code)) return { status: 403, code: 'NO_PRIVILEGES' };
  if (code === 'REVISION_CONFLICT') return { status: 409, code: 'ITEM_REV_CONFLICT' };
  if (status === 404) return { status: 404, code: 'NOT_FOUND' };
  if (status >= 500) return { status, code: 'SYSTEM_ERROR' };
  if (status === 409) return { status: 409, code: 'INVALID_VALUE' };
  // Every other 4xx is the request's fault: 400 INVALID_PARAMS (413/414/415/405 keep their status).
  return { status: status === 400 ? 400 : status, code: 'INVALID_PARAMS' };
}

const ACTION_REFUSALS: readonly ErrorCode[] = [
  'ACTION_NOT_PERMITTED',
  'ACTION_NOT_FOUND',
  'WRONG_STATUS',
  'ITEM_PENDING_APPROVAL',
];

/** Hexabase's wording for an action refusal, with batchgate's reason after it. */
export function hexabaseMessage(code: ErrorCode, message: string): string {
  return ACTION_REFUSALS.includes(code)
    ? `invalid action_id or has no privileges to the user or current item status. ${message}`
    : message;
}

export function hexabaseErrorBody(status: number, code: HexabaseCode, short: string, referenceId?: string) {
  return {
    error: status === 404 ? 'NOT_FOUND' : short,
    error_code: code,
    message: short,
    description: short,
    errors: [
      {
        description: short,
        error: status === 404 ? 'not found' : code === 'ITEM_REV_CONFLICT' ? 'Revision number mismatch' : 'Error',
        error_code: code,
        error_level: 'ERROR',
        ...(referenceId ? { reference_id: referenceId } : {}),
      },
    ],
  };
}

/** The plugin's error handler: anything thrown in a /api/v0 route, in the Hexabase envelope. */
export function sendHexabaseError(err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const e = toHttpError(err, req);
  logServerError(req, err, e);
  if (e.headers) reply.headers(e.headers);
  const { status, code } = hexabaseCode(e.code, e.status);
  const params = (req.params ?? {}) as Record<string, string | undefined>;
  const ref = params.item_id ?? params.action_id ?? params.datastore_id ?? params.d_id;
  const message =
    e.code === 'VALIDATION_FAILED' && Array.isArray(e.details) ? validationMessage(e.message, e.details) : e.message;
  return reply.status(status).send(hexabaseErrorBody(status, code, hexabaseMessage(e.code, message), ref));
}

function validationMessage(message: string, details: { path?: string; message?: string }[]): string {
  const d = details[0];
  return d ? `${d.path ?? '/'} ${d.message ?? message}` : message;
}

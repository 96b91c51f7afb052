import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorCode } from '../../errors.ts';
import { logServerError, toHttpError } from '../errors-http.ts';

/**
 * DataArts error codes (DS.60xx) by catalog code. DataArts answers only 400, 401, 403 and 404 (plus a 5xx for our
 * own bugs), so conflicts (409) and the body-size and media-type errors (413, 414, 415) are 400s here and a
 * wrong method is a 404. Throttling is not DataArts' own: Huawei Cloud's API gateway in front of it answers 429
 * `APIG.0308` ("The throttling threshold has been reached"), which DataArts clients already handle, so the
 * authentication-failure limit answers that. Listed in docs/dataarts.md.
 */
export const DS_ERRORS = Object.freeze({
  'DS.6000': {
    status: 400,
    codes: [
      'BAD_REQUEST',
      'INVALID_JSON',
      'NESTING_TOO_DEEP',
      'BODY_TOO_LARGE',
      'URI_TOO_LONG',
      'UNSUPPORTED_MEDIA_TYPE',
    ],
  },
  'DS.6001': {
    status: 400,
    codes: [
      'VALIDATION_FAILED',
      'TOO_MANY_TARGETS',
      'INVALID_CONDITION',
      'INVALID_FIELD_VALUE',
      'UNKNOWN_FIELD',
      'INVALID_DEFINITION',
      'COMMENT_REQUIRED',
      'STATUS_NOT_FOUND',
      'UNSUPPORTED_TYPE',
      'WEBHOOK_URL_NOT_ALLOWED',
      'CONNECTION_FAILED',
      'CONNECTION_NOT_ALLOWED',
    ],
  },
  'DS.6002': {
    status: 400,
    codes: [
      'CONFLICT',
      'DUPLICATE',
      'REVISION_CONFLICT',
      'WRONG_STATUS',
      'TICKET_ALREADY_DECIDED',
      'ITEM_PENDING_APPROVAL',
      'NOT_BATCH_APPROVABLE',
      'IDEMPOTENCY_KEY_REUSED',
      'BATCH_STATE',
      'BATCH_CANCELLED',
      'SKIPPED_BY_USER',
      'UNCHANGED',
      'REVERT_CONFLICT',
      'NOT_REVERTIBLE',
      'QUOTA_EXCEEDED',
    ],
  },
  'DS.6010': { status: 401, codes: ['UNAUTHENTICATED'] },
  'APIG.0308': { status: 429, codes: ['TOO_MANY_AUTH_FAILURES', 'TOO_MANY_STREAMS'] },
  'DS.6030': { status: 403, codes: ['FORBIDDEN', 'ACTION_NOT_PERMITTED', 'NOT_ASSIGNEE', 'SELF_APPROVAL_FORBIDDEN'] },
  'DS.6040': { status: 404, codes: ['WORKSPACE_NOT_FOUND'] },
  'DS.6041': { status: 404, codes: ['ROUTE_NOT_FOUND', 'METHOD_NOT_ALLOWED'] },
  'DS.6042': {
    status: 404,
    codes: [
      'NOT_FOUND',
      'USER_NOT_FOUND',
      'DATASTORE_NOT_FOUND',
      'ITEM_NOT_FOUND',
      'ACTION_NOT_FOUND',
      'TICKET_NOT_FOUND',
      'BATCH_NOT_FOUND',
      'CONNECTION_NOT_FOUND',
      'SOURCE_TABLE_NOT_FOUND',
      'ITEMS_PURGED',
      'WEBHOOK_NOT_FOUND',
      'DELIVERY_NOT_FOUND',
      'TOKEN_NOT_FOUND',
      'INVITATION_NOT_FOUND',
    ],
  },
  'DS.6050': { status: 500, codes: ['INTERNAL'] },
  'DS.6053': { status: 503, codes: ['UNAVAILABLE', 'SECRET_KEY_UNAVAILABLE', 'QUERY_TIMEOUT'] },
} as const satisfies Record<string, { status: number; codes: readonly ErrorCode[] }>);

export type DsCode = keyof typeof DS_ERRORS;

const BY_CODE: ReadonlyMap<ErrorCode, { code: DsCode; status: number }> = new Map(
  Object.entries(DS_ERRORS).flatMap(([code, d]) =>
    d.codes.map((c) => [c as ErrorCode, { code: code as DsCode, status: d.status }]),
  ),
);

export function dsErrorOf(code: ErrorCode): { code: DsCode; status: number } {
  return BY_CODE.get(code) ?? { code: 'DS.6050', status: 500 };
}

/** Renders any error of a DataArts route as `{"error_code":"DS.60xx","error_msg":…}`. */
export function sendDataartsError(err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const e = toHttpError(err, req);
  const ds = dsErrorOf(e.code);
  logServerError(req, err, e);
  if (e.headers) reply.headers(e.headers);
  return reply.status(ds.status).send({ error_code: ds.code, error_msg: e.message });
}

export function routeNotFound(req: FastifyRequest): AppError {
  return new AppError(
    'ROUTE_NOT_FOUND',
    `The User Request API does not exist: ${req.method} ${req.url.split('?')[0]}.`,
  );
}

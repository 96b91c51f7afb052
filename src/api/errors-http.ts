import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isConnectionLoss } from '../db/capabilities.ts';
import { isQueryTimeout } from '../db/query-timeout.ts';
import { Errors, isAppError, type ErrorCode } from '../errors.ts';
import { REQUEST_ID_HEADER } from './request-context.ts';

export interface HttpError {
  status: number;
  code: ErrorCode;
  message: string;
  details?: unknown;
  /** Headers to send with the error in whatever envelope (Retry-After). */
  headers?: Readonly<Record<string, string>>;
}

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_BAD_URL: 'BAD_REQUEST',
  FST_ERR_MAX_PARAM_LENGTH: 'URI_TOO_LONG',
};

/** Other 4xx errors Fastify raises, by status: the code's catalog status is the one answered. */
const FASTIFY_STATUSES: Record<number, ErrorCode> = {
  404: 'ROUTE_NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'BODY_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

/**
 * Maps anything thrown in a route to the catalog: AppErrors as they are, schema failures to VALIDATION_FAILED
 * with Ajv's findings, Fastify's body errors to their codes, a lost database connection to UNAVAILABLE (the
 * request may be retried once the database is back); anything else is a bug and answers INTERNAL.
 * The dialects call this and render the result in their own envelope. A 5xx names the request id (in the message,
 * which every envelope carries, and in `details`), so "report it with the request id" finds the log lines.
 */
export function toHttpError(err: unknown, req?: FastifyRequest): HttpError {
  const e = catalogError(err);
  if (e.status < 500 || !req) return e;
  const details =
    e.details && typeof e.details === 'object' && !Array.isArray(e.details)
      ? { ...e.details, request_id: req.id }
      : { request_id: req.id };
  return { ...e, message: `${e.message} (request id ${req.id})`, details };
}

function catalogError(err: unknown): HttpError {
  if (isAppError(err)) {
    return {
      status: err.status,
      code: err.code,
      message: err.message,
      ...(err.details !== undefined ? { details: err.details } : {}),
      ...(err.headers ? { headers: err.headers } : {}),
    };
  }
  const fe = err as FastifyError & { validation?: { instancePath: string; message?: string; params?: unknown }[] };
  if (fe && fe.validation) {
    const details = fe.validation.map((v) => ({ path: v.instancePath || '/', message: v.message, params: v.params }));
    return { status: 400, code: 'VALIDATION_FAILED', message: fe.message, details };
  }
  if (fe && typeof fe.code === 'string' && Object.hasOwn(FASTIFY_CODES, fe.code)) {
    const code = FASTIFY_CODES[fe.code]!;
    const message =
      fe.code === 'FST_ERR_BAD_URL' ? 'The URL is not valid percent-encoded UTF-8.' : Errors[code].message;
    return { status: Errors[code].status, code, message };
  }
  if (fe && typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    const code = FASTIFY_STATUSES[fe.statusCode] ?? 'BAD_REQUEST';
    return { status: Errors[code].status, code, message: fe.message };
  }
  // PostgreSQL's statement_timeout on a request's connection (src/db/query-limits.ts).
  if (isQueryTimeout(err))
    return { status: Errors.QUERY_TIMEOUT.status, code: 'QUERY_TIMEOUT', message: Errors.QUERY_TIMEOUT.message };
  if (isConnectionLoss(err))
    return { status: 503, code: 'UNAVAILABLE', message: 'The database is unreachable; retry shortly.' };
  return { status: 500, code: 'INTERNAL', message: Errors.INTERNAL.message };
}

/**
 * Logs a 5xx: a bug (INTERNAL) with its stack; a catalog 5xx (a source database that failed, a missing key,
 * shutting down) by code and message only, which are ours and carry no credentials.
 */
export function logServerError(req: FastifyRequest, err: unknown, e: HttpError): void {
  if (e.code === 'INTERNAL') req.log.error({ err }, 'unhandled error');
  else if (e.status >= 500) req.log.warn({ code: e.code, message: e.message }, 'request failed');
}

export function sendNativeError(err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const e = toHttpError(err, req);
  logServerError(req, err, e);
  // Router errors (a malformed URL) are answered before the onRequest hook that sets it.
  reply.header(REQUEST_ID_HEADER, req.id);
  if (e.headers) reply.headers(e.headers);
  return reply
    .status(e.status)
    .send({ error: { code: e.code, message: e.message, ...(e.details !== undefined ? { details: e.details } : {}) } });
}

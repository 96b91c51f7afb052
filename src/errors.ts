/**
 * The one error catalog. Every error the service answers with has a stable code here, an HTTP status and a
 * default message; the compatibility dialects map these codes to their own (DataArts DS.60xx, Hexabase
 * error_code), never invent their own business errors. Per-item batch outcomes use the same codes.
 *
 * The catalog is frozen and test/api/contract.test.ts checks that docs/api.md lists every code and no stale one.
 */
export interface ErrorDef {
  readonly code: string;
  readonly status: number;
  readonly message: string;
}

function def(code: string, status: number, message: string): ErrorDef {
  return Object.freeze({ code, status, message });
}

export const Errors = Object.freeze({
  // request shape
  BAD_REQUEST: def('BAD_REQUEST', 400, 'The request is malformed.'),
  INVALID_JSON: def('INVALID_JSON', 400, 'The request body is not valid JSON.'),
  VALIDATION_FAILED: def('VALIDATION_FAILED', 400, 'The request does not match the schema.'),
  BODY_TOO_LARGE: def('BODY_TOO_LARGE', 413, 'The request body is too large.'),
  URI_TOO_LONG: def('URI_TOO_LONG', 414, 'A path segment of the URL is too long.'),
  UNSUPPORTED_MEDIA_TYPE: def('UNSUPPORTED_MEDIA_TYPE', 415, 'Request bodies must be application/json.'),
  NESTING_TOO_DEEP: def('NESTING_TOO_DEEP', 400, 'The request body is nested too deeply.'),
  INVALID_CONDITION: def('INVALID_CONDITION', 400, 'A search condition is invalid.'),
  INVALID_FIELD_VALUE: def('INVALID_FIELD_VALUE', 400, 'A field value does not match the field type.'),
  UNKNOWN_FIELD: def('UNKNOWN_FIELD', 400, 'The field does not exist in this datastore.'),
  INVALID_DEFINITION: def('INVALID_DEFINITION', 400, 'The datastore definition is inconsistent.'),
  COMMENT_REQUIRED: def('COMMENT_REQUIRED', 400, 'This decision requires a comment.'),
  // auth
  UNAUTHENTICATED: def('UNAUTHENTICATED', 401, 'A valid API token is required.'),
  FORBIDDEN: def('FORBIDDEN', 403, 'Your role does not allow this.'),
  ACTION_NOT_PERMITTED: def('ACTION_NOT_PERMITTED', 403, 'Your role may not run this action.'),
  NOT_ASSIGNEE: def('NOT_ASSIGNEE', 403, 'Only the assignee or a workspace admin may decide this ticket.'),
  SELF_APPROVAL_FORBIDDEN: def(
    'SELF_APPROVAL_FORBIDDEN',
    403,
    'Nobody decides a ticket they submitted unless its action allows self-approval.',
  ),
  TOO_MANY_AUTH_FAILURES: def(
    'TOO_MANY_AUTH_FAILURES',
    429,
    'Too many failed authentications from this address; retry later.',
  ),
  TOO_MANY_STREAMS: def('TOO_MANY_STREAMS', 429, 'Too many event streams open with this token; close one first.'),
  // lookups
  NOT_FOUND: def('NOT_FOUND', 404, 'Not found.'),
  WORKSPACE_NOT_FOUND: def('WORKSPACE_NOT_FOUND', 404, 'Workspace not found.'),
  USER_NOT_FOUND: def('USER_NOT_FOUND', 404, 'User not found.'),
  TOKEN_NOT_FOUND: def('TOKEN_NOT_FOUND', 404, 'API token not found.'),
  INVITATION_NOT_FOUND: def('INVITATION_NOT_FOUND', 404, 'Invitation not found.'),
  DATASTORE_NOT_FOUND: def('DATASTORE_NOT_FOUND', 404, 'Datastore not found.'),
  ITEM_NOT_FOUND: def('ITEM_NOT_FOUND', 404, 'Item not found.'),
  ACTION_NOT_FOUND: def('ACTION_NOT_FOUND', 404, 'Action not found in this datastore.'),
  STATUS_NOT_FOUND: def('STATUS_NOT_FOUND', 400, 'Status not found in this datastore.'),
  TICKET_NOT_FOUND: def('TICKET_NOT_FOUND', 404, 'Ticket not found.'),
  BATCH_NOT_FOUND: def('BATCH_NOT_FOUND', 404, 'Batch not found.'),
  ITEMS_PURGED: def(
    'ITEMS_PURGED',
    410,
    "The batch's per-item outcomes were purged by retention; its counters remain.",
  ),
  ROUTE_NOT_FOUND: def('ROUTE_NOT_FOUND', 404, 'No such route.'),
  METHOD_NOT_ALLOWED: def('METHOD_NOT_ALLOWED', 405, 'Method not allowed on this route.'),
  // conflicts and state
  CONFLICT: def('CONFLICT', 409, 'The request conflicts with the current state.'),
  DUPLICATE: def('DUPLICATE', 409, 'An object with this key already exists.'),
  REVISION_CONFLICT: def('REVISION_CONFLICT', 409, 'The item was changed since the given rev_no.'),
  WRONG_STATUS: def('WRONG_STATUS', 409, "The item's status does not allow this action."),
  TICKET_ALREADY_DECIDED: def('TICKET_ALREADY_DECIDED', 409, 'The ticket is no longer pending.'),
  ITEM_PENDING_APPROVAL: def('ITEM_PENDING_APPROVAL', 409, 'The item has a pending approval ticket.'),
  NOT_BATCH_APPROVABLE: def('NOT_BATCH_APPROVABLE', 409, 'This ticket may not be decided in a batch.'),
  IDEMPOTENCY_KEY_REUSED: def('IDEMPOTENCY_KEY_REUSED', 409, 'The Idempotency-Key was used with a different request.'),
  BATCH_STATE: def('BATCH_STATE', 409, 'The batch is not in a state that allows this.'),
  BATCH_CANCELLED: def('BATCH_CANCELLED', 409, 'The batch was cancelled before this item ran.'),
  REVERT_CONFLICT: def(
    'REVERT_CONFLICT',
    409,
    'The item changed since the reverted batch left it; it was not overwritten.',
  ),
  NOT_REVERTIBLE: def('NOT_REVERTIBLE', 409, 'This change cannot be reverted.'),
  TOO_MANY_TARGETS: def('TOO_MANY_TARGETS', 400, 'Too many targets for this request.'),
  QUOTA_EXCEEDED: def('QUOTA_EXCEEDED', 409, 'A quota of the service does not allow creating more of these.'),
  // data connections and model operations (reverse a database, transform a logical model)
  CONNECTION_NOT_FOUND: def('CONNECTION_NOT_FOUND', 404, 'No such data connection in this workspace.'),
  // 422, not 502: our service is healthy; the URL given, or the database behind it, is what has to change.
  CONNECTION_FAILED: def('CONNECTION_FAILED', 422, 'The source database could not be reached or read.'),
  CONNECTION_NOT_ALLOWED: def(
    'CONNECTION_NOT_ALLOWED',
    400,
    'BATCHGATE_CONNECTION_SOURCES does not allow this source database.',
  ),
  SECRET_KEY_UNAVAILABLE: def(
    'SECRET_KEY_UNAVAILABLE',
    503,
    'BATCHGATE_SECRET_KEY is not set, or is not the key the connection was stored with.',
  ),
  SOURCE_TABLE_NOT_FOUND: def('SOURCE_TABLE_NOT_FOUND', 404, 'The table does not exist in the source database.'),
  UNSUPPORTED_TYPE: def('UNSUPPORTED_TYPE', 400, 'The data type has no mapping to the target database.'),
  SKIPPED_BY_USER: def('SKIPPED_BY_USER', 409, 'The user excluded this target from the operation.'),
  UNCHANGED: def('UNCHANGED', 409, 'The target already matches; there was nothing to change.'),
  // webhooks
  WEBHOOK_URL_NOT_ALLOWED: def(
    'WEBHOOK_URL_NOT_ALLOWED',
    400,
    'Webhooks deliver only to http(s) URLs of allowed, public hosts.',
  ),
  WEBHOOK_NOT_FOUND: def('WEBHOOK_NOT_FOUND', 404, 'Webhook not found.'),
  DELIVERY_NOT_FOUND: def('DELIVERY_NOT_FOUND', 404, 'Webhook delivery not found.'),
  // server
  INTERNAL: def('INTERNAL', 500, 'Internal error.'),
  UNAVAILABLE: def('UNAVAILABLE', 503, 'The service is shutting down, not ready, or cannot reach its database.'),
  // 503, not 4xx: the same request may pass on a quieter service or smaller data; narrowing it is the fix either way.
  QUERY_TIMEOUT: def(
    'QUERY_TIMEOUT',
    503,
    'A query of this request took longer than BATCHGATE_QUERY_TIMEOUT_MS; nothing was changed. Narrow the search.',
  ),
});

export type ErrorCode = keyof typeof Errors;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;
  /** Response headers every dialect sends with this error (Retry-After of a 429). */
  readonly headers: Readonly<Record<string, string>> | undefined;

  constructor(code: ErrorCode, message?: string, details?: unknown, headers?: Record<string, string>) {
    const d = Errors[code];
    super(message ?? d.message);
    this.name = 'AppError';
    this.code = code;
    this.status = d.status;
    this.details = details;
    this.headers = headers;
  }
}

/** Throws the catalog error; typed `never` so it narrows like a return. */
export function fail(code: ErrorCode, message?: string, details?: unknown): never {
  throw new AppError(code, message, details);
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}

/** Wraps non-Errors so a caught value always has a message (graphile-worker's coerceError). */
export function coerceError(e: unknown): Error {
  if (e instanceof Error) return e;
  return new Error(typeof e === 'string' ? e : JSON.stringify(e), { cause: e });
}

import { AppError } from '../errors.ts';

/** The error a request answers when one of its queries ran past BATCHGATE_QUERY_TIMEOUT_MS (src/db/query-limits.ts). */
export function queryTimeout(timeoutMs: number): AppError {
  return new AppError(
    'QUERY_TIMEOUT',
    `A query of this request took longer than ${timeoutMs} ms (BATCHGATE_QUERY_TIMEOUT_MS); nothing was changed. Narrow the search.`,
  );
}

/** PostgreSQL's query_canceled: statement_timeout struck (or an operator cancelled the statement). */
export function isQueryTimeout(e: unknown): boolean {
  return (e as { code?: unknown } | null)?.code === '57014';
}

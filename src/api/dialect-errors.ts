import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendBatchApprovalError } from './batch-approvals/index.ts';
import { sendDataartsError } from './dataarts/ds-errors.ts';
import { sendNativeError } from './errors-http.ts';
import { sendHexabaseError } from './hexabase/errors.ts';
import { REQUEST_ID_HEADER } from './request-context.ts';

/**
 * An error raised before any route of a dialect is chosen (an unknown path or method, a URL that is not valid
 * percent-encoded UTF-8, an over-long path segment), answered in the envelope of the dialect the path belongs
 * to, so a DataArts, Hexabase or batch-approval client can always read the error it gets.
 */
export function sendErrorByPath(err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  // Answered before the onRequest hook that echoes the request id, in every dialect.
  reply.header(REQUEST_ID_HEADER, req.id);
  const path = req.url.split('?')[0]!;
  if (path.startsWith('/api/v0/')) return sendHexabaseError(err, req, reply);
  if (/^\/v[12]\//.test(path)) return sendDataartsError(err, req, reply);
  if (path.startsWith('/batch_approvals/')) return sendBatchApprovalError(err, req, reply);
  return sendNativeError(err, req, reply);
}

import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { markRequestBound, requestScope } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { App } from './native/types.ts';

export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * A caller's id is kept when it is one token of at most 128 safe characters (UUIDs, ULIDs, trace ids like
 * `Root=1-5759e988-bd862e3fe1be46a994272793`); anything else (too long, spaces, quotes, control characters that
 * could forge log lines or headers) is replaced by a fresh UUID.
 */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:=+/-]{1,128}$/;

export function requestIdOf(raw: IncomingMessage): string {
  const given = raw.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : randomUUID();
}

/** Per-request child loggers carry `request_id` as a binding; marked so the logger's mixin does not add it twice. */
export function requestChildLogger(logger: FastifyBaseLogger, bindings: Record<string, unknown>, opts: object): FastifyBaseLogger {
  return markRequestBound(logger.child(bindings, opts) as unknown as Logger) as unknown as FastifyBaseLogger;
}

/**
 * Fastify's two lines per request made one: "request completed" at info with the method, URL, route pattern, status
 * and time; "incoming request" only at debug.
 */
export class RequestLog extends LogController {
  constructor() {
    super({ requestIdLogLabel: 'request_id' });
  }

  override incomingRequest(request: FastifyRequest): void {
    if (!this.isLogDisabled(request)) request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    const line = { req: request, route: request.routeOptions.url ?? null, res: reply, responseTime: reply.elapsedTime };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request completed');
  }
}

/**
 * Echoes the request id, runs the request inside `requestScope` (so engine lines logged for it carry the id) and
 * times it into the HTTP histogram by route pattern. The scope is entered again after body parsing: the parser's
 * stream events run outside the request's async context.
 */
export function requestContext(app: App, metrics: Metrics): void {
  app.addHook('onRequest', (req, reply, done) => {
    reply.header(REQUEST_ID_HEADER, req.id);
    requestScope.run(req.id, done);
  });
  app.addHook('preValidation', (req, _reply, done) => requestScope.run(req.id, done));
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.httpSeconds.observe({ method: req.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
}

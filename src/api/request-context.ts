import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { RequestContext } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { App } from './types.ts';

export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * A caller's id is kept when it is one token of at most 128 safe characters (UUIDs, ULIDs, trace ids like
 * `Root=1-5759e988-bd862e3fe1be46a994272793`); anything else (too long, spaces, quotes, control characters that
 * could forge log lines or headers) is replaced by a fresh UUID.
 */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:=+/-]{1,128}$/;

/** The request as the engine is told of it: for the log lines of the work it asks for. */
export function requestOf(req: FastifyRequest): RequestContext {
  return { requestId: req.id };
}

export function requestIdOf(raw: IncomingMessage): string {
  const given = raw.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * Fastify's two lines per request made one: "request completed" at info with the method, URL, route pattern, status
 * and time; "incoming request" only at debug. The line is only built when its level is on.
 */
export class RequestLog extends LogController {
  constructor() {
    super({ requestIdLogLabel: 'request_id' });
  }

  override incomingRequest(request: FastifyRequest): void {
    if (!this.isLogDisabled(request)) request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request) || !levelOn(reply.log, error ? 'error' : 'info')) return;
    const line = { req: request, route: request.routeOptions.url ?? null, res: reply, responseTime: reply.elapsedTime };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request completed');
  }
}

/** Fastify's silent stand-in (no logger given) has no levels to ask, and logs nothing anyway. */
function levelOn(log: FastifyBaseLogger, level: 'error' | 'info'): boolean {
  const ask = (log as Partial<Logger>).isLevelEnabled;
  return ask === undefined || ask.call(log, level);
}

/**
 * Echoes the request id and times each request into the HTTP histogram by route pattern. Callback hooks, not async
 * ones: a promise per hook per request showed in the status route's profile. The request id reaches engine lines
 * through the RequestContext each engine call is given (requestOf), not an AsyncLocalStorage: that turns on promise
 * hooks for every promise in the process, 15% of GET batch status's CPU.
 */
export function requestContext(app: App, metrics: Metrics): void {
  app.addHook('onRequest', (req, reply, done) => {
    reply.header(REQUEST_ID_HEADER, req.id);
    done();
  });
  app.addHook('onResponse', (req, reply, done) => {
    metrics.httpSeconds.observe(
      { method: req.method, route: req.routeOptions.url ?? 'unmatched', status_code: reply.statusCode },
      reply.elapsedTime / 1000,
    );
    done();
  });
}

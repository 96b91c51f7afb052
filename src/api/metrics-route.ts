import { authFailureLimiter, type AuthFailureSettings } from './auth-failures.ts';
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { Type } from 'typebox';
import { requireSystemAdmin } from '../core/auth.ts';
import type { Ctx } from '../core/context.ts';
import { AppError } from '../errors.ts';
import { principalOf, tokenOf } from './auth-hook.ts';
import { sendNativeError } from './errors-http.ts';
import type { App } from './types.ts';
import { ErrorResponse } from './schemas.ts';
import { requestContext, requestIdOf, RequestLog } from './request-context.ts';

export interface MetricsDeps {
  ctx: Ctx;
  /** BATCHGATE_METRICS_TOKEN: a bearer token that may read /metrics and nothing else. */
  metricsToken: string | null;
}

function sameSecret(a: string, b: string): boolean {
  // Hashed first so the comparison takes the same time whatever the lengths.
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/**
 * Who may scrape: the metrics token, or a system admin's API token (either header). No token or an unknown one is
 * 401 and a user who is not a system admin 403: the counts cover every workspace, so no workspace role reads them.
 */
async function authorizeScrape(deps: MetricsDeps, req: FastifyRequest): Promise<void> {
  const token = tokenOf(req);
  if (token !== undefined && deps.metricsToken && sameSecret(token, deps.metricsToken)) return;
  requireSystemAdmin(await principalOf(deps.ctx, req));
}

export function metricsRoute(app: App, deps: MetricsDeps): void {
  const err = Type.Ref('ErrorResponse');
  app.get(
    '/metrics',
    {
      // Not behind the API's token hook: a GET without a body, authorized by its own rule (authorizeScrape).
      config: { public: true },
      schema: {
        tags: ['ops'],
        summary: 'Prometheus metrics (text exposition format); BATCHGATE_METRICS_TOKEN or a system admin token',
        produces: ['text/plain'],
        response: { 200: Type.String({ description: 'Prometheus text format 0.0.4' }), 401: err, 403: err },
      },
    },
    async (req, reply) => {
      await authorizeScrape(deps, req);
      const { registry } = deps.ctx.metrics;
      return reply.type(registry.contentType).send(await registry.metrics());
    },
  );
}

/**
 * `batchgate worker --metrics-port`: a worker has no API, so its counters (items processed, slices, lease reclaims)
 * are served by this bare app with the one route, the same authorization and the catalog error envelope.
 */
export async function buildMetricsApp(deps: MetricsDeps & AuthFailureSettings & { logger: Logger }): Promise<App> {
  const app = Fastify({
    loggerInstance: deps.logger,
    genReqId: requestIdOf,
    requestIdHeader: false,
    logController: new RequestLog(),
    frameworkErrors: (e, req, reply) => sendNativeError(e, req, reply),
  }) as unknown as App;
  app.decorateRequest('principal', null);
  app.decorate('authFailures', authFailureLimiter(deps));
  app.addSchema(ErrorResponse);
  requestContext(app, deps.ctx.metrics);
  app.setErrorHandler((e, req, reply) => sendNativeError(e, req, reply));
  app.setNotFoundHandler((req, reply) =>
    sendNativeError(new AppError('ROUTE_NOT_FOUND', `No route ${req.method} ${req.url.split('?')[0]}.`), req, reply),
  );
  metricsRoute(app, deps);
  return app;
}

import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { Type } from 'typebox';
import type { Ctx } from '../core/context.ts';
import type { Engine } from '../engine/engine.ts';
import { AppError } from '../errors.ts';
import { authFailureLimiter, type AuthFailureSettings } from './auth-failures.ts';
import { authFirst } from './auth-hook.ts';
import { sendErrorByPath } from './dialect-errors.ts';
import { parseJsonBody } from './json-body.ts';
import { batchApprovalsApi } from './batch-approvals/index.ts';
import { dataartsApi } from './dataarts/index.ts';
import { hexabaseApi } from './hexabase/index.ts';
import { metricsRoute } from './metrics-route.ts';
import { DEFAULT_STATUS_CACHE_MS } from './native/batch-status-cache.ts';
import { DEFAULT_STREAM_SETTINGS, type StreamSettings } from './native/event-streams.ts';
import { nativeApi } from './native/index.ts';
import { requestContext, requestIdOf, RequestLog } from './request-context.ts';
import { webUi } from './web-ui.ts';
import type { App } from './types.ts';
import { ErrorResponse } from './schemas.ts';

export interface RegisteredRoute {
  method: string;
  url: string;
  hidden: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    routeList: readonly RegisteredRoute[];
  }
}

/** authFailure*: failed authentications per client address and window before 429 (0: no limit); auth-failures.ts. */
export interface AppOptions extends AuthFailureSettings {
  ctx: Ctx;
  engine: Engine;
  /** A pino logger; none (silent) in tests. */
  logger?: Logger;
  /** Largest request body in bytes; 16 MiB fits a 10,000-item import with room to spare. */
  bodyLimit?: number;
  /** BATCHGATE_METRICS_TOKEN: may read /metrics (as may a system admin's token). */
  metricsToken?: string | null;
  /** BATCHGATE_STATUS_CACHE_MS (batch-status-cache.ts); the default when absent. */
  statusCacheMs?: number;
  /** Event streams: BATCHGATE_SSE_MAX_PER_TOKEN and, for tests, the re-check, stall and pacing intervals (event-streams.ts). */
  sse?: Partial<StreamSettings>;
}

function makeAjv(coerce: boolean): Ajv {
  // Bodies are strict: a wrong JSON type is refused, never coerced, and unknown properties are errors where
  // a schema closes the object. Query strings and path params are text, so they are coerced.
  // `strict: false` also turns strictNumbers off, which lets a body's 1e400 (Infinity) pass as a number and
  // even as an integer: bodies keep it on. Text keeps it off: Ajv coerces "1e400" to Infinity and, with it on,
  // then skips minimum/maximum for a non-finite number; off, `maximum` refuses it (text integers need one).
  const ajv = new Ajv({
    coerceTypes: coerce,
    useDefaults: true,
    removeAdditional: false,
    allErrors: false,
    strict: false,
    strictNumbers: !coerce,
  });
  addFormats.default(ajv);
  return ajv;
}

function emptyBodyAsObject(req: FastifyRequest, _reply: FastifyReply, done: () => void): void {
  if (req.body === undefined) req.body = {};
  done();
}

/**
 * Routes that answer without a token: those marked `config: { public: true }` (health, the OpenAPI document,
 * /metrics, which keeps its own token rule, the web UI's page), and the routes the docs UI and static-file
 * plugins register, which take no route config of ours.
 */
function isPublicRoute(url: string, config: unknown): boolean {
  if ((config as { public?: boolean } | undefined)?.public === true) return true;
  return url === '/docs' || url.startsWith('/docs/') || url.startsWith('/assets/');
}

/** TypeBox marks `Type.Optional(...)` with a non-enumerable `~optional`. */
function isOptionalSchema(schema: unknown): boolean {
  return typeof schema === 'object' && schema !== null && (schema as Record<string, unknown>)['~optional'] === true;
}

export async function buildApp(opts: AppOptions): Promise<App> {
  const app = Fastify({
    ...(opts.logger ? { loggerInstance: opts.logger } : { logger: false }),
    bodyLimit: opts.bodyLimit ?? 16 * 1024 * 1024,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // Request ids: the caller's x-request-id when sane, else a UUID; logged as `request_id` on every request line.
    genReqId: requestIdOf,
    requestIdHeader: false,
    logController: new RequestLog(),
    // A path that is not valid percent-encoded UTF-8, or a path segment longer than maxParamLength, is refused
    // by the router before any route runs: answer it in the path's dialect like every other error.
    frameworkErrors: (err, req, reply) => sendErrorByPath(err, req, reply),
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Every route as registered, so a test can hold the OpenAPI document to describing all of them.
  const routeList: RegisteredRoute[] = [];
  app.decorate('routeList', routeList);
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) {
      if (method !== 'HEAD')
        routeList.push({ method, url: r.url, hidden: (r.schema as { hide?: boolean } | undefined)?.hide === true });
    }
    // Fastify validates an absent body as null, so `Type.Optional(Type.Object(...))` alone would still refuse
    // a POST without one: on routes whose body is optional, an absent one is validated, and handled, as `{}`.
    // Attached per route at registration, not as a hook every request runs.
    if (isOptionalSchema(r.schema?.body))
      r.preValidation = [...(r.preValidation ? [r.preValidation].flat() : []), emptyBodyAsObject];
    // Who asks before what is asked: the token is checked in onRequest, before the body is read, on every route
    // of every door that is not public. Attached per route, so public routes pay nothing for it.
    if (!isPublicRoute(r.url, r.config))
      r.onRequest = [authenticateFirst, ...(r.onRequest ? [r.onRequest].flat() : [])];
  });
  const authenticateFirst = authFirst(opts.ctx);

  const bodyAjv = makeAjv(false);
  const textAjv = makeAjv(true);
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : textAjv).compile(schema));

  app.decorateRequest('principal', null);
  requestContext(app as unknown as App, opts.ctx.metrics);
  app.decorate('authFailures', authFailureLimiter(opts));
  app.removeContentTypeParser(['application/json', 'text/plain']);
  // application/json and application/*+json, with parameters; not application/jsonx. Fastify matches the
  // lower-cased `type/subtype; params` form of the header.
  app.addContentTypeParser(/^application\/([\w.+-]+\+)?json(;|$)/, { parseAs: 'buffer' }, (_req, body, done) => {
    // An empty body is no body: routes whose body is optional take it, the others refuse it in validation.
    if ((body as Buffer).length === 0) return done(null, undefined);
    try {
      done(null, parseJsonBody(body as Buffer));
    } catch (e) {
      done(e as AppError, undefined);
    }
  });
  // NUL cannot be stored or compared in PostgreSQL text: a URL carrying one (in a path param or the query)
  // is refused here rather than failing in the database.
  app.addHook('onRequest', (req, _reply, done) => {
    // includes, not a regex: every request runs this, and /%00/.test cost ~1,100 instructions of it (callgrind).
    if (req.url.includes('%00') || req.url.includes('\0'))
      return done(new AppError('BAD_REQUEST', 'The URL contains a NUL character (%00).'));
    // An unknown path needs a token too: without one it answers 401 (in its dialect), not 404, so an anonymous
    // client cannot map the routes, and its body is not read.
    if (req.is404) return authenticateFirst(req, _reply, done);
    done();
  });

  // Before any plugin registers routes, so the docs routes (@fastify/swagger-ui) answer errors (a NUL in the
  // URL) in the catalog envelope too. An unknown path, and an error raised while answering one (a NUL, a bad
  // content type), answers in the envelope of the dialect the path falls under; the dialects' own routes have
  // their own handlers.
  app.setErrorHandler((err, req, reply) => sendErrorByPath(err, req, reply));
  app.setNotFoundHandler((req, reply) =>
    sendErrorByPath(new AppError('ROUTE_NOT_FOUND', `No route ${req.method} ${req.url.split('?')[0]}.`), req, reply),
  );

  app.addSchema(ErrorResponse);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'batchgate', version: '0.1.0', description: 'Batch approvals and bulk operations.' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          authToken: { type: 'apiKey', in: 'header', name: 'X-Auth-Token' },
        },
      },
      security: [{ bearer: [] }, { authToken: [] }],
    },
    refResolver: {
      buildLocalReference: (json, _base, _frag, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.get(
    '/healthz',
    {
      config: { public: true },
      schema: {
        tags: ['ops'],
        summary: 'Liveness and database check',
        security: [],
        response: { 200: Type.Object({ ok: Type.Boolean(), database: Type.String() }) },
      },
    },
    async () => {
      await opts.ctx.db.selectFrom('bg_meta').select('key').limit(1).execute();
      return { ok: true, database: opts.ctx.caps.dialect };
    },
  );
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
  metricsRoute(app as unknown as App, { ctx: opts.ctx, metricsToken: opts.metricsToken ?? null });

  const deps = {
    ctx: opts.ctx,
    engine: opts.engine,
    statusCacheMs: opts.statusCacheMs ?? DEFAULT_STATUS_CACHE_MS,
    streams: { ...DEFAULT_STREAM_SETTINGS, ...opts.sse },
  };
  await app.register(nativeApi(deps), { prefix: '/api/v1' });
  // The compatibility doors: each translates its dialect onto the same core and engine, in its own envelope.
  await app.register(dataartsApi(deps));
  await app.register(batchApprovalsApi(deps));
  await app.register(hexabaseApi(deps), { prefix: '/api/v0' });
  // The web UI (src/web, built into web-dist/) at `/`: static files only, talking to the native API.
  await app.register(webUi());
  // The pino Logger type is wider than FastifyBaseLogger; routes only need the base interface.
  return app as unknown as App;
}

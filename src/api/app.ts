import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import Fastify from 'fastify';
import type { Logger } from 'pino';
import { Type } from 'typebox';
import type { Ctx } from '../core/context.ts';
import { AppError } from '../errors.ts';
import { sendNativeError } from './errors-http.ts';
import { parseJsonBody } from './json-body.ts';
import { nativeApi } from './native/index.ts';
import type { App } from './native/types.ts';
import { ErrorResponse } from './schemas.ts';

export interface AppOptions {
  ctx: Ctx;
  /** A pino logger; none (silent) in tests. */
  logger?: Logger;
  /** Largest request body in bytes; 16 MiB fits a 10,000-item import with room to spare. */
  bodyLimit?: number;
}

function makeAjv(coerce: boolean): Ajv {
  // Bodies are strict: a wrong JSON type is refused, never coerced, and unknown properties are errors where
  // a schema closes the object. Query strings and path params are text, so they are coerced.
  const ajv = new Ajv({ coerceTypes: coerce, useDefaults: true, removeAdditional: false, allErrors: false, strict: false });
  addFormats.default(ajv);
  return ajv;
}

export async function buildApp(opts: AppOptions): Promise<App> {
  const app = Fastify({
    ...(opts.logger ? { loggerInstance: opts.logger } : { logger: false }),
    bodyLimit: opts.bodyLimit ?? 16 * 1024 * 1024,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
  }).withTypeProvider<TypeBoxTypeProvider>();

  const bodyAjv = makeAjv(false);
  const textAjv = makeAjv(true);
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : textAjv).compile(schema));

  app.decorateRequest('principal', null);
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser(/^application\/([\w.+-]+\+)?json/, { parseAs: 'string' }, (_req, body, done) => {
    if (body === '') return done(null, undefined);
    try {
      done(null, parseJsonBody(body as string));
    } catch (e) {
      done(e as AppError, undefined);
    }
  });

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
    refResolver: { buildLocalReference: (json, _base, _frag, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.setErrorHandler((err, req, reply) => sendNativeError(err, req, reply));
  app.setNotFoundHandler((req, reply) => sendNativeError(new AppError('ROUTE_NOT_FOUND', `No route ${req.method} ${req.url.split('?')[0]}.`), req, reply));

  app.get(
    '/healthz',
    { schema: { tags: ['ops'], summary: 'Liveness and database check', security: [], response: { 200: Type.Object({ ok: Type.Boolean(), database: Type.String() }) } } },
    async () => {
      await opts.ctx.db.selectFrom('bg_meta').select('key').limit(1).execute();
      return { ok: true, database: opts.ctx.caps.dialect };
    },
  );
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(nativeApi({ ctx: opts.ctx }), { prefix: '/api/v1' });
  // The pino Logger type is wider than FastifyBaseLogger; routes only need the base interface.
  return app as unknown as App;
}

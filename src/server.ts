import type { DestinationStream } from 'pino';
import { buildApp } from './api/app.ts';
import { ensureWebBuild } from './api/web-ui.ts';
import type { App } from './api/types.ts';
import { dbOptions, type Config } from './config.ts';
import type { Ctx } from './core/context.ts';
import { seedDemo, type DemoSeed } from './core/demo.ts';
import { makeCtx, requestCtx } from './core/make-ctx.ts';
import { ensureSystemAdmin } from './core/users.ts';
import { migrate } from './db/migrate.ts';
import { makeEngine, type Engine } from './engine/engine.ts';
import type { WorkerOptions } from './engine/worker.ts';
import { openDb, type OpenDb, type OpenDbOptions } from './db/open-db.ts';
import { configSecrets, makeLogger, redactUrl } from './log.ts';
import { enableProcessMetrics } from './metrics.ts';

export interface Service {
  app: App;
  ctx: Ctx;
  engine: Engine;
  opened: OpenDb;
  demo: DemoSeed | null;
  close(): Promise<void>;
}

export interface ServiceOptions {
  /** Listen on config.port (default true). */
  listen?: boolean;
  /** Run the embedded worker (default true). */
  worker?: boolean;
  /** Where log lines go (stdout by default); tests read them back. */
  logDestination?: DestinationStream;
  /** PostgreSQL schema and pool size (tests run in a schema of their own). */
  db?: OpenDbOptions;
}

/** Opens and migrates the database, bootstraps the admin and demo data, and builds the HTTP app. */
export async function createService(config: Config, opts: ServiceOptions = {}): Promise<Service> {
  const log = makeLogger({
    level: config.logLevel,
    secrets: configSecrets(config),
    ...(opts.logDestination ? { destination: opts.logDestination } : {}),
  });
  const opened = openDb(config.databaseUrl, { ...dbOptions(config), ...opts.db });
  log.info({ database: redactUrl(config.databaseUrl), dialect: opened.caps.dialect }, 'database opened');
  await migrate(opened);
  const ctx = makeCtx(opened, log, {
    scheduleUtcOffsetMinutes: config.scheduleUtcOffsetMinutes,
    secretKey: config.secretKey,
    webhooks: { allowPrivate: config.webhookAllowPrivate, allowedHosts: config.webhookAllowedHosts },
    connectionSources: config.connectionSources,
    quotas: config.quotas,
    queryTimeoutMs: config.queryTimeoutMs,
  });
  enableProcessMetrics(ctx.metrics);

  let demo: DemoSeed | null = null;
  const anyUser = await ctx.db.selectFrom('app_user').select('id').limit(1).executeTakeFirst();
  if (!anyUser && config.demo) demo = await seedDemo(ctx);
  if (config.adminToken) await ensureSystemAdmin(ctx, config.adminToken);

  const forRequests = requestCtx(ctx, opened);
  // The engine's own statements stay unlimited; its reads are those of a request (a submit's target search).
  const engine = await makeEngine({ ...ctx, reader: forRequests.reader }, opened);
  // `npm start` on a checkout whose `prepare` script did not run still serves the UI: build it once.
  if (opts.listen !== false) await ensureWebBuild();
  const app = await buildApp({
    ctx: forRequests,
    engine,
    logger: log,
    bodyLimit: config.bodyLimit,
    metricsToken: config.metricsToken,
    statusCacheMs: config.statusCacheMs,
    sse: { maxPerToken: config.sseMaxPerToken },
    authFailureLimit: config.authFailureLimit,
    authFailureWindowSeconds: config.authFailureWindowSeconds,
  });
  if (opts.listen !== false) await app.listen({ port: config.port, host: config.host });
  if (opts.worker !== false) engine.startWorker(workerOptions(config));
  return {
    app,
    ctx,
    engine,
    opened,
    demo,
    async close() {
      // Stop taking requests, let the worker finish or release its chunk, then close the pool.
      await app.close();
      await engine.close();
      await opened.close();
    },
  };
}

/** The worker (and its webhook delivery loop) as configured. */
export function workerOptions(config: Config): WorkerOptions {
  return {
    concurrency: config.workerConcurrency,
    workspaceLimit: config.workspaceConcurrency,
    leaseMs: config.leaseMs,
    retentionDays: config.retentionDays,
    webhooks: { timeoutMs: config.webhookTimeoutMs, maxAttempts: config.webhookMaxAttempts },
  };
}

export function printDemo(demo: DemoSeed, baseUrl: string): void {
  const lines = [
    '',
    '  batchgate: created a demo workspace on this empty database.',
    `  workspace id ${demo.workspaceId} (DataArts project_id "${demo.projectId}")`,
    '  Tokens (shown once; keep them):',
    ...demo.users.map((u) => `    ${u.role.padEnd(22)} ${u.name.padEnd(16)} ${u.token}`),
    '',
    `  Try: curl -H "Authorization: Bearer ${demo.users[0]!.token}" ${baseUrl}/api/v1/workspaces`,
    `  API docs: ${baseUrl}/docs`,
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

import type { Command } from 'commander';
import { usage } from './exit.ts';

/**
 * The server side: serve, worker, migrate. Their modules (Fastify, the database drivers, the engine) load only
 * when one of them runs, so the client commands start quickly.
 */
async function serverModules() {
  const [
    { readConfig, port, dbOptions },
    { migrate },
    { openDb },
    { createService, printDemo, workerOptions },
    { buildMetricsApp },
  ] = await Promise.all([
    import('../config.ts'),
    import('../db/migrate.ts'),
    import('../db/open-db.ts'),
    import('../server.ts'),
    import('../api/metrics-route.ts'),
  ]);
  return { readConfig, port, dbOptions, migrate, openDb, createService, printDemo, workerOptions, buildMetricsApp };
}

export function registerServerCommands(program: Command): void {
  program
    .command('serve', { isDefault: true })
    .description('Run the HTTP API (and, on SQLite, the embedded worker)')
    .option('--no-worker', 'do not run a batch worker in this process')
    .action(async (opts: { worker: boolean }) => {
      const { readConfig, createService, printDemo } = await serverModules();
      const config = readConfig();
      const service = await createService(config, { worker: opts.worker });
      const base = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${config.port}`;
      if (service.demo) printDemo(service.demo, base);
      service.ctx.log.info({ url: base, database: service.opened.caps.dialect }, 'batchgate listening');
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        service.ctx.log.info({ signal }, 'shutting down');
        await service.close();
        process.exit(0);
      };
      process.on('SIGTERM', () => void stop('SIGTERM'));
      process.on('SIGINT', () => void stop('SIGINT'));
    });

  program
    .command('worker')
    .description('Run a batch worker without the HTTP API (PostgreSQL; any number of them)')
    .option(
      '--metrics-port <port>',
      'serve GET /metrics for Prometheus on this port (default: BATCHGATE_METRICS_PORT, else none)',
    )
    .action(async (opts: { metricsPort?: string }) => {
      const { readConfig, port, createService, workerOptions, buildMetricsApp } = await serverModules();
      const config = readConfig();
      let metricsPort = config.metricsPort;
      try {
        if (opts.metricsPort !== undefined) metricsPort = port('--metrics-port', opts.metricsPort);
      } catch (e) {
        usage((e as Error).message);
      }
      const service = await createService({ ...config, demo: false }, { listen: false, worker: false });
      if (!service.opened.caps.multiProcess) {
        service.ctx.log.error(
          'SQLite runs its worker inside `batchgate serve`; a second process would contend for its one writer. Use PostgreSQL (DATABASE_URL=postgres://…) for separate workers.',
        );
        await service.close();
        process.exit(2);
      }
      service.engine.startWorker(workerOptions(config));
      const metrics =
        metricsPort === null
          ? null
          : await buildMetricsApp({
              ctx: service.ctx,
              metricsToken: config.metricsToken,
              logger: service.ctx.log,
              authFailureLimit: config.authFailureLimit,
              authFailureWindowSeconds: config.authFailureWindowSeconds,
            });
      if (metrics) await metrics.listen({ port: metricsPort!, host: config.host });
      service.ctx.log.info(
        { database: service.opened.caps.dialect, metrics_port: metricsPort },
        'batchgate worker running',
      );
      let stopping = false;
      const stop = async () => {
        if (stopping) return;
        stopping = true;
        await metrics?.close();
        await service.close();
        process.exit(0);
      };
      process.on('SIGTERM', () => void stop());
      process.on('SIGINT', () => void stop());
    });

  program
    .command('backup <file>')
    .description(
      'Online backup of the SQLite database into a new file, safe while the service runs (PostgreSQL: pg_dump)',
    )
    .option('--json', 'print the summary as JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      const { readConfig } = await serverModules();
      const { backupSqlite } = await import('../db/backup.ts');
      const source = await sqliteFileOf(
        readConfig().databaseUrl,
        'backup',
        'pg_dump -Fc "$DATABASE_URL" -f batchgate.dump',
      );
      printSummary('backup written', await refusedAsUsage(() => backupSqlite(source, file)), opts.json);
    });

  program
    .command('restore <backup>')
    .description('Replace the SQLite database with a backup, with the service stopped (PostgreSQL: pg_restore)')
    .option('--json', 'print the summary as JSON')
    .action(async (backup: string, opts: { json?: boolean }) => {
      const { readConfig } = await serverModules();
      const { restoreSqlite } = await import('../db/backup.ts');
      const target = await sqliteFileOf(
        readConfig().databaseUrl,
        'restore',
        'pg_restore --clean -d "$DATABASE_URL" batchgate.dump',
      );
      const summary = await refusedAsUsage(async () => restoreSqlite(backup, target));
      printSummary(
        `restored ${backup}${summary.previous ? `; the previous database is kept as ${summary.previous}` : ''}`,
        summary,
        opts.json,
      );
    });

  program
    .command('purge')
    .description(
      'Purge the per-item rows of batches finished more than N days ago, now (the worker also does it periodically)',
    )
    .option('--days <n>', 'age in days (default: BATCHGATE_RETENTION_DAYS)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { days?: string; json?: boolean }) => {
      const { readConfig, dbOptions, openDb, migrate } = await serverModules();
      const [{ makeCtx }, { makeLogger, configSecrets }, { purgeFinishedItems }, { default: pino }] = await Promise.all(
        [import('../core/make-ctx.ts'), import('../log.ts'), import('../engine/retention.ts'), import('pino')],
      );
      const config = readConfig();
      const days = opts.days !== undefined ? Number(opts.days) : config.retentionDays;
      if (days === null || !Number.isInteger(days) || days < 1)
        usage('purge needs --days <n> (a whole number of days, at least 1) or BATCHGATE_RETENTION_DAYS.');
      const opened = openDb(config.databaseUrl, dbOptions(config));
      try {
        await migrate(opened);
        // Log lines on stderr: stdout carries the result.
        const log = makeLogger({
          level: config.logLevel,
          secrets: configSecrets(config),
          destination: pino.destination(2),
        });
        const ctx = makeCtx(opened, log);
        const purged = await purgeFinishedItems(ctx, days);
        console.log(
          opts.json
            ? JSON.stringify({ ...purged, days })
            : `purged the item rows of ${purged.batches} batches finished more than ${days} days ago (${purged.rows} rows)`,
        );
      } finally {
        await opened.close();
      }
    });

  program
    .command('migrate')
    .description('Run database migrations and exit')
    .action(async () => {
      const { readConfig, dbOptions, openDb, migrate } = await serverModules();
      const config = readConfig();
      const opened = openDb(config.databaseUrl, dbOptions(config));
      const done = await migrate(opened);
      console.log(done.length ? `applied: ${done.join(', ')}` : 'database is up to date');
      await opened.close();
    });
}

/** The SQLite file of DATABASE_URL; on PostgreSQL the command is refused (exit 2) with the tool to use instead. */
async function sqliteFileOf(databaseUrl: string, command: string, instead: string): Promise<string> {
  const { isPostgresUrl, sqlitePath } = await import('../db/open-db.ts');
  if (isPostgresUrl(databaseUrl))
    usage(`${command} is for the SQLite database. On PostgreSQL use its own tools, e.g. ${instead}`);
  return sqlitePath(databaseUrl);
}

/** A refusal (file exists, database in use, failed integrity check, …) exits 2 with its reason; nothing changed. */
async function refusedAsUsage<T>(fn: () => Promise<T>): Promise<T> {
  const { BackupRefused } = await import('../db/backup.ts');
  try {
    return await fn();
  } catch (e) {
    if (e instanceof BackupRefused) usage(e.message);
    throw e;
  }
}

function printSummary(
  what: string,
  s: { file: string; bytes: number; migration: string | null; counts: Record<string, number> },
  json?: boolean,
): void {
  if (json) {
    console.log(JSON.stringify(s));
    return;
  }
  const counts = Object.entries(s.counts)
    .map(([k, v]) => `${k.replace('_', ' ')} ${v}`)
    .join(', ');
  console.log(`${what}: ${s.file} (${s.bytes} bytes, integrity ok, migration ${s.migration ?? 'none'}; ${counts})`);
}

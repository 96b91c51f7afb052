import type { Command } from 'commander';

/**
 * The server side: serve, worker, migrate. Their modules (Fastify, the database drivers, the engine) load only
 * when one of them runs, so the client commands start quickly.
 */
async function serverModules() {
  const [{ readConfig }, { migrate }, { openDb }, { createService, printDemo }] = await Promise.all([
    import('../config.ts'),
    import('../db/migrate.ts'),
    import('../db/open-db.ts'),
    import('../server.ts'),
  ]);
  return { readConfig, migrate, openDb, createService, printDemo };
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
    .action(async () => {
      const { readConfig, createService } = await serverModules();
      const config = readConfig();
      const service = await createService({ ...config, demo: false }, { listen: false, worker: false });
      if (!service.opened.caps.multiProcess) {
        service.ctx.log.error('SQLite runs its worker inside `batchgate serve`; a second process would contend for its one writer. Use PostgreSQL (DATABASE_URL=postgres://…) for separate workers.');
        await service.close();
        process.exit(2);
      }
      service.engine.startWorker({ concurrency: config.workerConcurrency });
      service.ctx.log.info({ database: service.opened.caps.dialect }, 'batchgate worker running');
      let stopping = false;
      const stop = async () => {
        if (stopping) return;
        stopping = true;
        await service.close();
        process.exit(0);
      };
      process.on('SIGTERM', () => void stop());
      process.on('SIGINT', () => void stop());
    });

  program
    .command('migrate')
    .description('Run database migrations and exit')
    .action(async () => {
      const { readConfig, openDb, migrate } = await serverModules();
      const config = readConfig();
      const opened = openDb(config.databaseUrl);
      const done = await migrate(opened);
      console.log(done.length ? `applied: ${done.join(', ')}` : 'database is up to date');
      await opened.close();
    });
}

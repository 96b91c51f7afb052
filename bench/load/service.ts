/**
 * The service under load as its own process, exactly as deployed (`node bin/batchgate.js serve`: API + embedded
 * worker), on a database made for this run and removed after it: a fresh SQLite file in a temp dir, or a fresh
 * PostgreSQL database (not a schema: `serve` reads only DATABASE_URL, and a database of its own also keeps its
 * LISTEN/NOTIFY traffic apart from the other users of the shared server).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export type Dialect = 'sqlite' | 'postgres';

export interface RunningProcess {
  /** http://127.0.0.1:port */
  url: string;
  child: ChildProcess;
  /** The last lines the process wrote (its log file), for a failure report. */
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

export interface RunningService extends RunningProcess {
  adminToken: string;
}

const ROOT = new URL('../../', import.meta.url).pathname;

/** Children still running: killed if the bench itself dies, so no server outlives it. */
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/** Kills `child` with the bench if the bench dies first. */
export function track<C extends ChildProcess>(child: C): C {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/**
 * CPU time (user + system) a process has used, in ms, from /proc (Linux; NaN elsewhere). Clock ticks are 10 ms
 * (USER_HZ is 100 on Linux), fine over runs of seconds.
 */
export function cpuMs(pid: number | undefined): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return NaN;
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitHealthy(url: string, child: ChildProcess, path: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the process exited with ${child.exitCode} before answering`);
    try {
      const res = await fetch(url + path);
      if (res.ok) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`${url}${path} did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function stopChild(child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Starts `node [args]` with its output in `logFile`, and waits until GET `healthPath` answers 2xx. */
export async function startProcess(
  args: string[],
  env: NodeJS.ProcessEnv,
  logFile: string,
  healthPath: string,
): Promise<RunningProcess> {
  const port = await freePort();
  const fd = openSync(logFile, 'a');
  const child = track(
    spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
      stdio: ['ignore', fd, fd],
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  const logTail = (lines = 20) => readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  try {
    await waitHealthy(url, child, healthPath);
  } catch (e) {
    await stopChild(child);
    throw new Error(`${(e as Error).message}\n${logTail()}`);
  }
  return { url, child, logTail, stop: () => stopChild(child) };
}

async function pgAdmin<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/**
 * `batchgate serve` on a new database. `pgUrl` is a server to create the database on (scripts/ensure-postgres.sh
 * prints one). Stopping sends SIGTERM (the service drains), then removes the database.
 */
export async function startService(
  dialect: Dialect,
  opts: { pgUrl?: string; logLevel: string; dir?: string },
): Promise<RunningService> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'bg-load-'));
  let databaseUrl: string;
  let dropDatabase = async () => {};
  if (dialect === 'sqlite') {
    databaseUrl = join(dir, 'load.db');
  } else {
    if (!opts.pgUrl) throw new Error('PostgreSQL needs a server URL');
    const name = `bg_load_${randomBytes(4).toString('hex')}`;
    await pgAdmin(opts.pgUrl, (c) => c.query(`create database ${name}`));
    const u = new URL(opts.pgUrl);
    u.pathname = `/${name}`;
    databaseUrl = u.toString();
    dropDatabase = () =>
      pgAdmin(opts.pgUrl!, (c) => c.query(`drop database if exists ${name} with (force)`)).then(() => {});
  }
  const adminToken = `bg_load_${randomBytes(18).toString('hex')}`;
  let proc: RunningProcess;
  try {
    proc = await startProcess(
      ['bin/batchgate.js', 'serve'],
      { DATABASE_URL: databaseUrl, BATCHGATE_ADMIN_TOKEN: adminToken, BATCHGATE_DEMO: '0', LOG_LEVEL: opts.logLevel },
      join(dir, 'service.log'),
      '/healthz',
    );
  } catch (e) {
    await dropDatabase();
    if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    ...proc,
    adminToken,
    async stop() {
      await proc.stop();
      await dropDatabase();
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

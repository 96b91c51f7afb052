/**
 * The real binary as child processes: `node bin/batchgate.js <args>` from the repository root, with a clean
 * environment, its output kept for failure messages, and every child and temp dir tracked so a test file's
 * `after(cleanupProcesses)` removes them however the tests ended.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A server answers /healthz within this on a loaded 2-core machine: ~2 s idle, up to 24 s seen at load 14. */
export const READY_TIMEOUT_MS = 60_000;

/** Every child still running, with the promise of its end. */
const children = new Map<ChildProcess, Promise<Exit>>();
const dirs: string[] = [];

export function tempDir(prefix = 'bg-proc-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** Binds `port` (0: any) on 127.0.0.1 and lets it go; answers the port, or null when it is taken. */
async function tryPort(port: number): Promise<number | null> {
  const server = createServer();
  const bound = await new Promise<boolean>((resolve) =>
    server.once('error', () => resolve(false)).listen(port, '127.0.0.1', () => resolve(true)),
  );
  if (!bound) return null;
  const got = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return got;
}

export async function freePort(): Promise<number> {
  return (await tryPort(0)) ?? assert.fail('no free port');
}

/**
 * A free port below the ephemeral range, for a server that is killed and started again on it: a port the system
 * hands out (freePort) can be taken meanwhile by any outgoing connection's local end, and the restart then fails
 * with EADDRINUSE (seen with a PostgreSQL cluster at 55434).
 */
export async function restartablePort(): Promise<number> {
  let low = 32768;
  try {
    low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || low;
  } catch {
    /* not Linux: the common default */
  }
  // 20000-25000 when the range starts at 32768; scripts/ensure-postgres.sh's clusters start at 25432.
  const from = Math.max(1024, Math.min(20_000, low - 12_768));
  for (let i = 0; i < 50; i++) {
    const port = await tryPort(from + Math.floor(Math.random() * 5_000));
    if (port) return port;
  }
  return assert.fail(`no free port in ${from}-${from + 5_000}`);
}

/** The test's environment without anything that configures batchgate: only what a test sets reaches it. */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) {
    if (
      key.startsWith('BATCHGATE_') ||
      ['DATABASE_URL', 'DATABASE_SCHEMA', 'PORT', 'HOST', 'NODE_TEST_CONTEXT'].includes(key)
    )
      delete env[key];
  }
  return env;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Run {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once the process has exited and its output is fully read. */
  closed: Promise<Exit>;
  /** True once `closed` has resolved. */
  exited(): boolean;
}

/** `node bin/batchgate.js <args>`, LOG_LEVEL warn unless `env` says otherwise. */
export function runBatchgate(args: string[], env: Record<string, string>, opts: { stdin?: string } = {}): Run {
  const child = spawn(process.execPath, ['bin/batchgate.js', ...args], {
    cwd: ROOT,
    env: { ...cleanEnv(), LOG_LEVEL: 'warn', ...env },
    stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (opts.stdin !== undefined) child.stdin!.end(opts.stdin);
  let out = '';
  let err = '';
  let done = false;
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  const closed = new Promise<Exit>((resolve) =>
    child.once('close', (code, signal) => {
      children.delete(child);
      done = true;
      resolve({ code, signal });
    }),
  );
  children.set(child, closed);
  return { child, stdout: () => out, stderr: () => err, closed, exited: () => done };
}

/** Polls `check` until it holds; fails with the process's output if it exits first or time runs out. */
export async function waitUntil(
  what: string,
  run: Run,
  check: () => Promise<boolean> | boolean,
  timeoutMs = READY_TIMEOUT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (run.exited())
      assert.fail(`batchgate exited before ${what}.\nstdout:\n${tail(run.stdout())}\nstderr:\n${tail(run.stderr())}`);
    if (Date.now() > deadline)
      assert.fail(`no ${what} within ${timeoutMs} ms.\nstdout:\n${tail(run.stdout())}\nstderr:\n${tail(run.stderr())}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The last lines of a log, enough to see why a process died without flooding the test output. */
export function tail(text: string, lines = 40): string {
  return text.split('\n').slice(-lines).join('\n');
}

export interface Server extends Run {
  base: string;
  port: number;
}

/** True when GET /healthz answers 200 now. */
export async function healthy(base: string): Promise<boolean> {
  try {
    return (await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2_000) })).status === 200;
  } catch {
    return false; // not listening (yet, or any more)
  }
}

/** `batchgate serve` (or `args`) on a free port of 127.0.0.1, once GET /healthz answers 200. */
export async function serveProcess(
  env: Record<string, string>,
  args: string[] = ['serve'],
  port?: number,
): Promise<Server> {
  port ??= await freePort();
  const run = runBatchgate(args, { PORT: String(port), HOST: '127.0.0.1', ...env });
  const base = `http://127.0.0.1:${port}`;
  await waitUntil('GET /healthz answering 200', run, () => healthy(base));
  return { ...run, base, port };
}

/** SIGTERM, then waits for the exit; `timeoutMs` bounds it (the caller asserts on the result). */
export async function terminate(run: Run, timeoutMs: number): Promise<Exit | 'timeout'> {
  run.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  const result = await Promise.race([run.closed, timeout]);
  clearTimeout(timer);
  return result;
}

/** SIGTERM, and the process must exit by itself with code 0 within `timeoutMs`. */
export async function stop(run: Run, timeoutMs = 5_000): Promise<void> {
  const result = await terminate(run, timeoutMs);
  assert.notEqual(
    result,
    'timeout',
    `batchgate did not exit within ${timeoutMs} ms of SIGTERM.\nstderr:\n${tail(run.stderr())}`,
  );
  assert.deepEqual(result, { code: 0, signal: null }, `exit after SIGTERM.\nstderr:\n${tail(run.stderr())}`);
}

/** SIGKILL: no handler runs, nothing is flushed; resolves once the process is gone. */
export async function kill(run: Run): Promise<void> {
  run.child.kill('SIGKILL');
  await run.closed;
}

/** For `after()`: kills every child still running (a failed test's) and deletes every temp dir. */
export async function cleanupProcesses(): Promise<void> {
  const running = [...children];
  for (const [child] of running) child.kill('SIGKILL');
  await Promise.all(running.map(([, closed]) => closed));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

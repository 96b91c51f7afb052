import { spawn, type ChildProcess } from 'node:child_process';
import type { TestDb } from './db.ts';

const root = new URL('../..', import.meta.url).pathname;

/** A worker process (test/engine/fixtures/worker-process.ts) on the test's database, once it says it is ready. */
export function spawnWorker(db: TestDb, env: Record<string, string> = {}): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/engine/fixtures/worker-process.ts'], {
    cwd: root,
    env: { ...process.env, DB_URL: db.url, DB_SCHEMA: db.schema ?? '', LEASE_MS: '1500', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`worker exited early with ${code}`)));
    child.stdout!.once('data', () => {
      child.removeAllListeners('exit');
      resolve(child);
    });
  });
}

export function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) =>
    child.exitCode !== null || child.signalCode ? resolve(child.exitCode) : child.once('exit', (c) => resolve(c)),
  );
}

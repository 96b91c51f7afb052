/**
 * A throwaway PostgreSQL cluster of the test's own (scripts/ensure-postgres.sh), for tests that stop, crash and
 * restart the server: never the shared one at TEST_PG_URL, which other tests and engineers are using.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './processes.ts';

const run = promisify(execFile);
const SCRIPT = join(ROOT, 'scripts/ensure-postgres.sh');

export interface Cluster {
  url: string;
  /** `pg_ctl <args>` on it, e.g. `restart -m immediate`, `stop -m fast`, `start`. */
  ctl(...args: string[]): Promise<void>;
  /** Stops it and deletes its directory. */
  destroy(): Promise<void>;
}

/** The script's own search for initdb (PATH, then Debian's versioned directories). */
function hasInitdb(): boolean {
  const onPath = (process.env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, 'initdb')));
  if (onPath) return true;
  const debian = '/usr/lib/postgresql';
  return existsSync(debian) && readdirSync(debian).some((v) => existsSync(join(debian, v, 'bin/initdb')));
}

/**
 * Why a cluster cannot be started here, or false. With CI set (as for test/web) this throws instead: CI installs
 * PostgreSQL (.ci/run runs ensure-postgres.sh), so a missing initdb there is a broken image, not a reason to skip.
 */
export function clusterUnavailable(): string | false {
  if (hasInitdb()) return false;
  const reason = 'no initdb on PATH nor under /usr/lib/postgresql/*/bin: cannot run a throwaway PostgreSQL cluster';
  if (process.env.CI) throw new Error(`${reason} (CI is set: install postgresql; this test does not skip in CI)`);
  return reason;
}

export async function startCluster(): Promise<Cluster> {
  // The script makes the directory its cluster's own and deletes it on stop (or when the start fails): it must
  // start empty, and nothing else may delete it while the cluster runs.
  const dir = mkdtempSync(join(tmpdir(), 'bg-pg-'));
  let url: string;
  try {
    const { stdout } = await run(SCRIPT, [], {
      env: { ...process.env, BATCHGATE_PG_THROWAWAY: '1', BATCHGATE_PG_DIR: dir },
      timeout: 120_000,
    });
    url = stdout.trim();
  } catch (e) {
    await run(SCRIPT, ['stop', dir]).catch(() => {});
    throw e;
  }
  return {
    url,
    async ctl(...args) {
      await run(SCRIPT, ['ctl', dir, ...args], { timeout: 60_000 });
    },
    async destroy() {
      await run(SCRIPT, ['stop', dir], { timeout: 60_000 });
    },
  };
}

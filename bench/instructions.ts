/**
 * `npm run bench:instructions`: CPU instructions per request of GET batch status and of the bare Fastify route,
 * counted by callgrind. Instructions repeat where seconds do not: on the shared 2-vCPU VM a route's CPU time moved
 * ±20% from one minute to the next, so a change of 2–3% shows here and nowhere else (bench/README.md).
 *
 *   npm run bench:instructions                       3 runs of each, 20,000 requests after 30,000 of warmup
 *   npm run bench:instructions -- --runs 1 --only status --requests 5000
 *
 * Needs valgrind (`apt-get install -y valgrind`). Each run starts a process under callgrind with instrumentation
 * off, warms it up (uninstrumented, ~10x slower than native), then counts `--requests` requests with
 * `callgrind_control`. The service: `batchgate serve --no-worker` on an SQLite file seeded through the API by a
 * normal process (bench/load/seed.ts), with BATCHGATE_STATUS_CACHE_MS long enough that no answer is reloaded while
 * counting (at callgrind's pace 100 ms is a few dozen requests, and the reloads would be what is measured). V8 runs
 * --single-threaded: under valgrind its background compiler and GC threads only run when the main one waits,
 * which a saturated server never does. A run takes 1–3 minutes.
 *
 * Expect two kinds of run for the service: V8 lands some processes in a state where header stores and inline
 * caches take its runtime's slow paths (bench/README.md), and those cost ~50k instructions a request more.
 * Each run is printed; compare the good state with the good state.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon, { type Request } from 'autocannon';
import { requests } from './load/requests.ts';
import { seed } from './load/seed.ts';
import { freePort, startProcess, track } from './load/service.ts';

const argv = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : fallback;
};
const RUNS = Number(arg('--runs', '3'));
const REQUESTS = Number(arg('--requests', '20000'));
const WARMUP = Number(arg('--warmup', '30000'));
const ONLY = arg('--only', 'status,bare').split(',');
const ROOT = new URL('../', import.meta.url).pathname;
// valgrind names its control pipes after HOST and USER; the service is given HOST=127.0.0.1 to listen on, so
// callgrind_control must be told the same, and a root shell may have no USER.
const VG_ENV = {
  HOST: '127.0.0.1',
  USER: process.env.USER ?? 'root',
  LOGNAME: process.env.LOGNAME ?? process.env.USER ?? 'root',
};

try {
  execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
} catch {
  console.error('bench:instructions needs valgrind: apt-get install -y valgrind');
  process.exit(2);
}

async function waitFor(url: string, child: { exitCode: number | null }): Promise<void> {
  for (const deadline = Date.now() + 600_000; Date.now() < deadline;) {
    if (child.exitCode !== null) throw new Error(`the process under callgrind exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${url} did not answer under callgrind within 10 minutes`);
}

async function count(kind: 'status' | 'bare'): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'bg-instr-'));
  try {
    const token = `bg_instr_${'x'.repeat(32)}`;
    const env = {
      DATABASE_URL: join(dir, 'bench.db'),
      BATCHGATE_ADMIN_TOKEN: token,
      BATCHGATE_DEMO: '0',
      LOG_LEVEL: 'warn',
      BATCHGATE_STATUS_CACHE_MS: String(24 * 3600_000),
    };
    let request: Request = { method: 'GET', path: '/' };
    let script = ['--import', 'tsx', join(ROOT, 'bench/load/bare-fastify.ts')];
    if (kind === 'status') {
      const seeding = await startProcess(['bin/batchgate.js', 'serve'], env, join(dir, 'seed.log'), '/healthz');
      request = requests(await seed(seeding.url, token, 2000)).status;
      await seeding.stop();
      script = ['bin/batchgate.js', 'serve', '--no-worker'];
    }
    const port = await freePort();
    const child = track(
      spawn(
        'valgrind',
        [
          '--tool=callgrind',
          '--instr-atstart=no',
          `--callgrind-out-file=${dir}/callgrind.out.%p`,
          process.execPath,
          '--single-threaded',
          ...script,
        ],
        {
          cwd: ROOT,
          env: { ...process.env, ...env, ...VG_ENV, PORT: String(port) },
          stdio: 'ignore',
        },
      ),
    );
    try {
      const url = `http://127.0.0.1:${port}`;
      await waitFor(url + (kind === 'status' ? '/healthz' : '/'), child);
      const load = (amount: number) => autocannon({ url, connections: 16, amount, timeout: 120, requests: [request] });
      await load(WARMUP);
      const control = (cmd: string[]) =>
        execFileSync('callgrind_control', [...cmd, String(child.pid)], {
          env: { ...process.env, ...VG_ENV },
          stdio: 'ignore',
        });
      control(['-i', 'on']);
      control(['-z']);
      const r = await load(REQUESTS);
      control(['-d']);
      if (r.non2xx || r.errors)
        throw new Error(`${kind}: ${r.non2xx} non-2xx answers and ${r.errors} errors while counting`);
      const totals = readdirSync(dir)
        .filter((f) => f.startsWith('callgrind.out.'))
        .map((f) => Number(/^(?:summary|totals): (\d+)/m.exec(readFileSync(join(dir, f), 'utf8'))?.[1] ?? 0));
      return Math.max(...totals) / r.requests.total;
    } finally {
      child.kill('SIGKILL');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const result: Record<string, number[]> = {};
for (let run = 1; run <= RUNS; run++) {
  for (const kind of ['status', 'bare'] as const) {
    if (!ONLY.includes(kind)) continue;
    const n = await count(kind);
    (result[kind] ??= []).push(Math.round(n));
    console.log(`run ${run}: ${kind.padEnd(6)} ${Math.round(n).toLocaleString('en')} instructions a request`);
  }
}
console.log(JSON.stringify(result));

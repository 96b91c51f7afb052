/**
 * Shared by the fault suite (test/faults/*.test.ts; not a test file itself): sizes, the environment that points
 * the real binary at a test's database, worker processes, and a seeded random source for kill points.
 */
import assert from 'node:assert/strict';
import { after, before, type TestContext } from 'node:test';
import type { Dialect } from '../../src/db/capabilities.ts';
import { findBatch, type Batch } from '../../src/engine/batches.ts';
import { openTestDb, type TestDb } from '../helpers/db.ts';
import {
  cleanupProcesses,
  kill,
  restartablePort,
  runBatchgate,
  serveProcess,
  waitUntil,
  type Run,
  type Server,
} from '../helpers/processes.ts';
import type { Client } from '../helpers/service.ts';

function size(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

/**
 * The defaults keep each dialect's half of the suite within 2-3 minutes on the shared 2-core machine (measured at
 * load 10-14: 105-116 s SQLite, 165-172 s PostgreSQL, with --test-concurrency=2); scale them up to soak, e.g.
 * FAULTS_ITEMS=200000 FAULTS_KILLS=10.
 * - FAULTS_ITEMS 20000: 20 chunks of 1000, so each of 3 kills lands mid-batch with chunks still ahead of it.
 * - FAULTS_KILLS 3: kills per test; each costs a process start (2 s idle, 4-24 s at that load) and, for the chunk
 *   the dead process held, a lease (LEASE_MS).
 * - FAULTS_RACE_ITEMS 6000: two batches run over them, 12000 outcomes in the same throttled ~8 s.
 */
export const SIZES = {
  items: size('FAULTS_ITEMS', 20_000),
  kills: size('FAULTS_KILLS', 3),
  raceItems: size('FAULTS_RACE_ITEMS', 6_000),
};

/**
 * A killed worker's chunk is taken over after its lease lapses: 2 s here instead of 30 s keeps a kill cheap,
 * yet stays far above a slice's duration (a 1000-item slice took ~150-200 ms at load 11: 20000 items in 3-4 s).
 */
export const LEASE_MS = 2_000;

/**
 * For a describe block: a fresh database before its tests and, after them (however they ended), every child
 * process killed and the database dropped. Answers a getter, the database existing only once `before` ran.
 */
export function suiteDb(dialect: Dialect): () => TestDb {
  let db: TestDb | undefined;
  before(async () => {
    db = await openTestDb(dialect);
  });
  after(async () => {
    await cleanupProcesses();
    await db?.close();
  });
  return () => db ?? assert.fail('the database is opened in before()');
}

/** The environment that points `batchgate serve` / `batchgate worker` at the test's database. */
export function dbEnv(db: TestDb, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: db.url,
    ...(db.schema ? { DATABASE_SCHEMA: db.schema } : {}),
    BATCHGATE_LEASE_MS: String(LEASE_MS),
    BATCHGATE_DEMO: '0',
    ...extra,
  };
}

/** `batchgate serve` on the test's database, on `port` or on a port it can be started again on after a kill. */
export async function serve(
  db: TestDb,
  opts: { args?: string[]; port?: number; env?: Record<string, string> } = {},
): Promise<Server> {
  return serveProcess(dbEnv(db, opts.env), opts.args, opts.port ?? (await restartablePort()));
}

/** `batchgate worker` on the test's database, once it says it runs (its info log line). */
export async function worker(db: TestDb): Promise<Run> {
  const run = runBatchgate(['worker'], dbEnv(db, { LOG_LEVEL: 'info' }));
  await waitUntil('the worker running', run, () => run.stdout().includes('batchgate worker running'));
  return run;
}

export interface Crew {
  /** The processes up now. */
  live(): Run[];
  /** Starts a process with `start`; once killed it is replaced by another `start()`. */
  launch(start: () => Promise<Run>): Promise<Run>;
  /** SIGKILLs one of the live processes, picked at random, and starts its replacement without waiting for it. */
  killOne(random: () => number): Promise<Run>;
  /** Waits for every start to finish (failing on one that did not), and answers the live processes. */
  settled(): Promise<Run[]>;
}

/**
 * Processes that are killed and replaced. A replacement starts in the background (a start takes 2-10 s here,
 * longer than a batch's stretch between two kills): the others go on meanwhile, or are the next victims, and then
 * nothing runs until a replacement is up.
 */
export function crew(): Crew {
  const live = new Map<Run, () => Promise<Run>>();
  const starts: Promise<unknown>[] = [];
  function launch(start: () => Promise<Run>): Promise<Run> {
    const started = start().then((run) => (live.set(run, start), run));
    starts.push(
      started.then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
    return started;
  }
  return {
    live: () => [...live.keys()],
    launch,
    async killOne(random) {
      const all = [...live.keys()];
      assert.ok(all.length > 0, 'a process to kill');
      const victim = all[Math.floor(random() * all.length)]!;
      const start = live.get(victim)!;
      live.delete(victim);
      await kill(victim);
      void launch(start);
      return victim;
    },
    async settled() {
      for (const failed of await Promise.all(starts))
        assert.equal(failed, undefined, `a replacement did not start: ${String(failed)}`);
      return [...live.keys()];
    },
  };
}

/** mulberry32: the kill points come from FAULTS_SEED (printed by each test), so a failing run can be replayed. */
export function seededRandom(t: TestContext): () => number {
  const seed = process.env.FAULTS_SEED ? Number(process.env.FAULTS_SEED) : Math.floor(Math.random() * 2 ** 31);
  t.diagnostic(`FAULTS_SEED=${seed}`);
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `kills` points to kill at, as counts of finished items: spread over the batch (the i-th in the i-th of
 * kills+1 equal stretches), each at a random place within its stretch's middle half.
 */
export function killPoints(total: number, kills: number, random: () => number): number[] {
  const stretch = total / (kills + 1);
  return Array.from({ length: kills }, (_, i) => Math.floor(stretch * (i + 0.75 + random() * 0.5)));
}

/**
 * Unthrottled, 20000 items took from 0.4 s (idle) to 4 s (load 11) here: too short and too variable to kill
 * three times inside. At this rate the batch runs ~8 s whatever the load, and each 250 ms slice is a quarter of
 * the rate (the engine's slicing under max_rate), so the next slice's start is known: the batch's not_before.
 */
export function steadyRate(items: number): number {
  return Math.ceil(items / 8);
}

const sleepUntil = (t: number) => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));

/**
 * Waits until the batch's worker is inside a slice, so that a kill then cuts it at a random point between its
 * first statement and its COMMIT. Throttled slices start at the batch's not_before; how long one takes is measured
 * on the slice about to start (from its start to its counters moving), and the wait ends at a random point of the
 * same span of the slice after it. Kills at random times mostly fell between slices (a worker idles most of each
 * 250 ms period). Even so, the window between a slice's item update and its outcome write is a few ms: a mutation
 * running slices outside their transaction was caught in one run of 10 kills, and missed in four runs of 3.
 */
export async function insideNextSlice(db: TestDb, batchId: string, random: () => number): Promise<void> {
  const read = async () => (await findBatch(db.ctx, batchId)) ?? assert.fail(`batch ${batchId} not found`);
  const ran = (b: Batch) => b.succeeded + b.failed + b.skipped;
  const before = await read();
  await sleepUntil(before.not_before);
  let after = before;
  while (ran(after) === ran(before) && Date.now() < before.not_before + 5_000) {
    await new Promise((r) => setTimeout(r, 2));
    after = await read();
  }
  const took = Math.max(5, Date.now() - before.not_before);
  await sleepUntil(after.not_before + random() * took);
}

/** Submits `order` (approved → ordered) on every item of `pr` in `approved`, as one batch; answers it. */
export async function submitOrderAll(api: Client, ws: string, extra: Record<string, unknown> = {}): Promise<any> {
  const r = await api.post(`/api/v1/workspaces/${ws}/batches`, {
    operation: 'action',
    action: 'order',
    target: { datastore: 'pr', conditions: [{ id: 'status', search_value: ['approved'] }] },
    ...extra,
  });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  return r.body;
}

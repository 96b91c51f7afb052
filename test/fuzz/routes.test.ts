/**
 * Property-based fuzzing of every registered route (app.routeList), its requests generated from its OpenAPI
 * operation (app.swagger()). For every request:
 *   - no 5xx;
 *   - an answer within FUZZ_TIMEOUT_MS (a hang fails the property);
 *   - an error answers in the route's dialect envelope with a catalog code of that status;
 *   - a refusal (4xx) changes nothing: a digest of every row of every table is the same before and after.
 *
 * The database is the one of ./world.ts, with no worker running, so only the fuzzed requests change it (queued
 * batches stay queued); after each route the acting users get their roles back. Refusals are compared with
 * the state right before them, so successful requests may change anything in between.
 *
 * Bounded for CI: FUZZ_RUNS requests per route (default 25; 80 routes, about a minute per dialect here).
 * Reproducible: the seed is printed (fixed when CI is set, random elsewhere); FUZZ_SEED=<n> replays a run (each
 * route's seed derives from it), and the
 * report shows the failing request shrunk (at most FUZZ_SHRINKS steps), its answer and the server's log line.
 * FUZZ_STATS=1 prints the statuses seen per route, to see how deep the requests get.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import fc from 'fast-check';
import { describeEachDialect } from '../helpers/db.ts';
import { changedTables, fingerprint } from '../helpers/fingerprint.ts';
import { dialectOf, envelopeProblem } from './envelopes.ts';
import { describeRequest, operationOf, requestArb, type FuzzRequest } from './requests.ts';
import { buildWorld, type World } from './world.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 25);
// CI replays one fixed seed, so a red run is the code's doing and replays as it was; elsewhere each run explores.
const CI_SEED = 20261207;
const SEED =
  process.env.FUZZ_SEED !== undefined
    ? Number(process.env.FUZZ_SEED)
    : process.env.CI
      ? CI_SEED
      : Math.floor(Math.random() * 2 ** 31);
/** Shrinking replays requests against a database the failing run already changed: a few steps, not hundreds. */
const MAX_SHRINKS = Number(process.env.FUZZ_SHRINKS ?? 40);
/** Generous: the slowest legitimate request here provisions a DataArts workspace (40 datastores) on a loaded box. */
const TIMEOUT_MS = Number(process.env.FUZZ_TIMEOUT_MS ?? 15_000);

console.log(`route fuzzing: FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS}`);

/** A request's answer, or a failure naming it when it takes longer than TIMEOUT_MS. */
async function send(w: World, req: FuzzRequest) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
  });
  try {
    return await Promise.race([
      w.app.inject({
        method: req.method as 'GET',
        url: req.url,
        headers: req.headers,
        ...(req.payload !== undefined ? { payload: req.payload } : {}),
      }),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

describeEachDialect('route fuzzing', (dialect) => {
  let w: World;
  let doc: any;
  let last: Record<string, string>;
  const stats: Record<string, Record<number, number>> = {};

  before(async () => {
    w = await buildWorld(dialect);
    doc = w.app.swagger();
    last = await fingerprint(w.s.db);
  });
  after(async () => {
    if (process.env.FUZZ_STATS) for (const [k, v] of Object.entries(stats)) console.log(k, JSON.stringify(v));
    await w.app.close();
    await w.s.close();
  });

  it('has an OpenAPI operation for every visible route it fuzzes', () => {
    const routes = w.app.routeList;
    assert.ok(routes.length >= 70, `${routes.length} routes`);
    const undocumented = routes.filter(
      (r) => !r.hidden && !doc.paths[r.url.replace(/:(\w+)/g, '{$1}')]?.[r.method.toLowerCase()],
    );
    assert.deepEqual(undocumented, []);
  });

  it('no 5xx, no hang, the dialect envelope, and nothing changed by a refusal, on every route', async (t) => {
    let index = 0;
    for (const route of w.app.routeList) {
      const op = operationOf(doc, route);
      const seed = (SEED + index++ * 7919) | 0;
      await t.test(`${route.method} ${route.url}`, async () => {
        const out = await fc.check(
          fc.asyncProperty(fc.limitShrink(requestArb(w, op), MAX_SHRINKS), async (req) => {
            w.errors.length = 0;
            const res = await send(w, req);
            const before = last;
            last = await fingerprint(w.s.db);
            const k = `${route.method} ${route.url}`;
            (stats[k] ??= {})[res.statusCode] = (stats[k]![res.statusCode] ?? 0) + 1;
            const what = `${describeRequest(req)}\n  -> ${res.statusCode} ${res.body.slice(0, 500)}`;
            assert.ok(
              res.statusCode < 500,
              `5xx: ${what}\n  payload: ${String(req.payload ?? '').slice(0, 4000)}\n  logged: ${w.errors.join('').slice(0, 2000)}`,
            );
            let body: unknown;
            try {
              body = res.body ? JSON.parse(res.body) : undefined;
            } catch {
              body = undefined;
            }
            if (res.statusCode >= 400) {
              const problem = envelopeProblem(dialectOf(req.url), res.statusCode, body);
              assert.equal(problem, null, `envelope: ${problem}: ${what}`);
              assert.deepEqual(changedTables(before, last), [], `a refused request changed rows: ${what}`);
            } else if (String(res.headers['content-type']).includes('json')) {
              assert.ok(body !== undefined || res.body === '', `not JSON: ${what}`);
            }
          }),
          { numRuns: RUNS, seed },
        );
        await w.heal();
        last = await fingerprint(w.s.db);
        // The report names the seed, the shrunk request and the assertion it broke.
        if (out.failed)
          assert.fail(`${fc.defaultReportMessage(out)}\n${(out.errorInstance as Error | null)?.message ?? ''}`);
      });
    }
  });
});

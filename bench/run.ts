/**
 * `npm run bench`: the engine against a raw floor measured in the same run, on the same data shape.
 *
 *   npm run bench                      100k items on SQLite (and PostgreSQL when TEST_PG_URL or DATABASE_URL
 *                                      is a postgres URL), then 10k vs 1M on SQLite
 *   npm run bench -- --items 20000     a quicker pass
 *   npm run bench -- --no-million      skip the 1M case
 *   npm run bench -- --no-procs        skip 1 vs 2 worker processes on PostgreSQL
 *   npm run bench -- --no-hexabase     skip the Hexabase bulk action over HTTP (bench/hexabase.ts)
 *   npm run bench -- --no-fairness     skip 100 items behind 1M, and the claim's cost (bench/fairness.ts)
 *   npm run bench -- --no-fields       skip field writes and searches, and a 200-field datastore's creation (bench/fields.ts)
 *   npm run bench -- --no-stall        skip GET item beside worst-case searches (bench/stall.ts)
 *
 * Each case runs in its own process (bench/case.ts) so its peak RSS is its own. The engine runs one chunk loop,
 * like the floor's one connection, so the ratio compares like with like; `procs` runs 1 and then 2 worker
 * processes of one loop each (`--concurrency N` for more loops per process). Targets: engine ≥ 0.7
 * × floor on SQLite, ≥ 0.6 × on PostgreSQL; at 1M, peak RSS ≤ 300 MB and per-item cost within 1.3 × of 10k.
 */
import { execFileSync } from 'node:child_process';

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(name);
const value = (name: string, fallback: number) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const items = value('--items', 100_000);
const chunk = value('--chunk', 1000);
const pgUrl = [process.env.TEST_PG_URL, process.env.DATABASE_URL].find((u) => u && /^postgres(ql)?:\/\//.test(u));

interface Result {
  dialect: string;
  mode: string;
  items: number;
  runMs: number;
  submitMs: number;
  itemsPerSec: number;
  peakRssMb: number;
  maxRssMb: number;
}

function run(dialect: 'sqlite' | 'postgres', mode: 'floor' | 'engine' | 'procs', n: number, workers = 1): Result {
  const out = execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      new URL('./case.ts', import.meta.url).pathname,
      JSON.stringify({ dialect, mode, items: n, chunk, pgUrl, workers, concurrency: value('--concurrency', 1) }),
    ],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 1 << 20,
    },
  );
  const r = JSON.parse(out.trim().split('\n').at(-1)!) as Result;
  const label = mode === 'procs' ? `${workers} proc` : mode;
  console.log(
    `  ${dialect.padEnd(8)} ${label.padEnd(6)} ${String(n).padStart(9)} items  ${String(r.itemsPerSec).padStart(7)} items/s  run ${r.runMs} ms  submit ${r.submitMs} ms  peak RSS ${r.maxRssMb} MB`,
  );
  return r;
}

console.log(`batchgate bench: ${items} items, chunk ${chunk}, node ${process.version}`);
const dialects: ('sqlite' | 'postgres')[] = ['sqlite', ...(pgUrl ? (['postgres'] as const) : [])];
if (!pgUrl) console.log('  (PostgreSQL skipped: set TEST_PG_URL=postgres://… to include it)');
const summary: string[] = [];
for (const d of dialects) {
  const floor = run(d, 'floor', items);
  const engine = run(d, 'engine', items);
  const ratio = engine.itemsPerSec / floor.itemsPerSec;
  const target = d === 'sqlite' ? 0.7 : 0.6;
  summary.push(
    `${d}: engine/floor = ${ratio.toFixed(2)} (target ≥ ${target}) ${ratio >= target ? 'OK' : 'BELOW TARGET'}`,
  );
}
if (pgUrl && !flag('--no-procs')) {
  const one = run('postgres', 'procs', items, 1);
  const two = run('postgres', 'procs', items, 2);
  const r = two.itemsPerSec / one.itemsPerSec;
  summary.push(`postgres: 2 worker processes / 1 = ${r.toFixed(2)} (target ≥ 1.0) ${r >= 1 ? 'OK' : 'BELOW TARGET'}`);
}
if (!flag('--no-million')) {
  // A 10k run lasts ~0.35 s, so one sample swings ±30% with the machine's load: take the median of three.
  const smalls = [run('sqlite', 'engine', 10_000), run('sqlite', 'engine', 10_000), run('sqlite', 'engine', 10_000)];
  const small = smalls.sort((a, b) => a.itemsPerSec - b.itemsPerSec)[1]!;
  const big = run('sqlite', 'engine', 1_000_000);
  const costRatio = small.itemsPerSec / big.itemsPerSec;
  summary.push(
    `sqlite 1M: ${big.itemsPerSec} items/s vs ${small.itemsPerSec} at 10k, per-item cost ×${costRatio.toFixed(2)} (target ≤ 1.3) ${costRatio <= 1.3 ? 'OK' : 'ABOVE TARGET'}`,
  );
  summary.push(`sqlite 1M: peak RSS ${big.maxRssMb} MB (target ≤ 300) ${big.maxRssMb <= 300 ? 'OK' : 'ABOVE TARGET'}`);
}
if (!flag('--no-hexabase')) {
  // ExecuteBulkAction on 300 items over HTTP vs a raw floor of the same writes (bench/hexabase.ts).
  const out = execFileSync(process.execPath, ['--import', 'tsx', new URL('./hexabase.ts', import.meta.url).pathname], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = out.trimEnd().split('\n');
  console.log(lines.slice(0, -1).join('\n'));
  const h = JSON.parse(lines.at(-1)!) as { httpP50Ms: number; httpP99Ms: number; floorP50Ms: number; ratioP50: number };
  summary.push(
    `hexabase bulkaction 300 over HTTP: p50 ${h.httpP50Ms} ms, p99 ${h.httpP99Ms} ms, p50 = ${h.ratioP50} × floor ${h.floorP50Ms} ms (target ≤ 4) ${h.ratioP50 <= 4 ? 'OK' : 'ABOVE TARGET'}`,
  );
}
if (!flag('--no-fairness')) {
  // The latency of a 100-item batch submitted while a 1M-item batch runs, next to an idle engine's.
  for (const d of dialects) {
    const out = execFileSync(
      process.execPath,
      ['--import', 'tsx', new URL('./fairness.ts', import.meta.url).pathname, JSON.stringify({ dialect: d, pgUrl })],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const f = JSON.parse(out.trim().split('\n').at(-1)!) as {
      idleEndMs: number;
      loadedStartMs: number;
      loadedEndMs: number;
      big: number;
      claimMsMany: number;
      readyChunks: number;
      claimMsFew: number;
    };
    summary.push(
      `${d}: 100 items behind ${f.big}: finished in ${f.loadedEndMs} ms (started after ${f.loadedStartMs} ms) vs ${f.idleEndMs} ms on an idle engine`,
    );
    summary.push(`${d}: one claim ${f.claimMsMany} ms with ${f.readyChunks} ready chunks, ${f.claimMsFew} ms with 10`);
  }
}
if (!flag('--no-fields')) {
  // Typed index rows cost the writes; field searches and datastore creation are what they buy.
  for (const d of dialects) {
    const out = execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        new URL('./fields.ts', import.meta.url).pathname,
        JSON.stringify({ dialect: d, pgUrl, items: Math.min(items, 20_000) }),
      ],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const f = JSON.parse(out.trim().split('\n').at(-1)!) as {
      items: number;
      importPerSec: number;
      updatePerSec: number;
      searchMs: Record<string, number>;
      createWideMs: number;
    };
    summary.push(
      `${d}: ${f.items} items: import ${f.importPerSec} items/s, update batch ${f.updatePerSec} items/s, a 200-field datastore created in ${f.createWideMs} ms`,
    );
    summary.push(
      `${d}: field searches (median ms): ${Object.entries(f.searchMs)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
  }
}
if (!flag('--no-stall')) {
  // Another tenant's GET item p99 beside 10 worst-case searches, against the same route alone.
  for (const d of dialects) {
    const out = execFileSync(
      process.execPath,
      ['--import', 'tsx', new URL('./stall.ts', import.meta.url).pathname, JSON.stringify({ dialect: d, pgUrl })],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const r = JSON.parse(out.trim().split('\n').at(-1)!) as {
      quietP99Ms: number;
      attackedP99Ms: number;
      ratio: number;
      searches: Record<string, number>;
    };
    summary.push(
      `${d}: GET item p99 ${r.attackedP99Ms} ms beside 10 worst-case searches vs ${r.quietP99Ms} ms alone = ×${r.ratio} (searches answered ${JSON.stringify(r.searches)})`,
    );
  }
}
console.log('\n' + summary.join('\n'));

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { it } from 'node:test';
import { promisify } from 'node:util';
import { DIALECTS, PG_URL } from '../helpers/db.ts';

/**
 * Keeps `npm run bench:load` from rotting: a 2 s pass at 16 connections, on each database of the run (PostgreSQL on
 * TEST_PG_URL, where the bench makes and drops a database of its own), must run every route with zero errors, keep
 * its SSE watchers fed and see every submitted batch succeed. No timing threshold: the figures belong to the bench
 * (bench/README.md), not to a test on a shared machine.
 */
for (const dialect of DIALECTS)
  it(
    `${dialect}: bench:load runs every route of the mixed workload without an error`,
    { timeout: 300_000 },
    async () => {
      const script = new URL('../../bench/load.ts', import.meta.url).pathname;
      const args = [
        '--import',
        'tsx',
        script,
        '--duration',
        // Long enough for a search (over a second at p50 on a loaded 2-core machine) to complete on each client.
        '6',
        '--warmup',
        '0',
        '--conns',
        '16',
        '--dialects',
        dialect,
        '--items',
        '1000',
      ];
      let stdout: string;
      try {
        ({ stdout } = await promisify(execFile)(process.execPath, args, {
          cwd: new URL('../../', import.meta.url).pathname,
          maxBuffer: 16 << 20,
          timeout: 240_000,
          env: { ...process.env, ...(PG_URL ? { TEST_PG_URL: PG_URL } : {}) },
        }));
      } catch (e) {
        const err = e as { code?: number; stdout?: string; stderr?: string };
        assert.fail(`bench:load exited ${err.code}\n${err.stdout}\n${err.stderr}`);
      }
      const result = JSON.parse(stdout.trimEnd().split('\n').at(-1)!);
      assert.equal(result.errors, 0, stdout);

      const rows = result.rows as {
        route: string;
        phase: string;
        requests: number;
        errors: number;
        reqPerSec: number;
      }[];
      const mixed = rows.filter((r) => r.phase === 'mixed').map((r) => r.route);
      assert.deepEqual(mixed.sort(), [
        'GET batch status',
        'POST _check (200 ids)',
        'POST batches',
        'POST items/search',
        'SSE watchers',
      ]);
      const alone = rows.filter((r) => r.phase === 'alone').map((r) => r.route);
      assert.deepEqual(alone.sort(), ['GET batch status', 'bare Fastify GET /']);
      for (const r of rows) {
        assert.ok(r.requests > 0, `${r.phase} ${r.route} was not exercised`);
        assert.equal(r.errors, 0, `${r.phase} ${r.route}`);
      }

      const [level] = result.levels;
      assert.equal(result.levels.length, 1);
      assert.ok(level.batches.submitted > 0, 'batches were submitted');
      assert.equal(level.batches.succeeded, level.batches.submitted, 'every submitted batch succeeded');
      assert.equal(level.sse.watchers, 4);
      assert.ok(level.sse.events >= level.sse.watchers, 'every watcher got events');
      assert.ok(Number.isFinite(level.ratio) && level.ratio > 0, `ratio ${level.ratio}`);
      assert.equal(level.rounds.length, 3, 'status and bare are measured in three paired rounds');
      for (const r of level.rounds) assert.ok(r.status.reqPerSec > 0 && r.bare.reqPerSec > 0, JSON.stringify(r));
    },
  );

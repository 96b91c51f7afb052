/**
 * Another API process on the same database, for claims about what other processes see: its own connection, its
 * own caches (principals, roles), and optionally a clock of its own.
 */
import assert from 'node:assert/strict';
import { buildApp } from '../../src/api/app.ts';
import type { App } from '../../src/api/types.ts';
import { makeCtx } from '../../src/core/make-ctx.ts';
import { openDb } from '../../src/db/open-db.ts';
import { makeEngine } from '../../src/engine/engine.ts';
import { TEST_AUTH_FAILURE_LIMIT, type TestService } from './service.ts';

export interface OtherProcess {
  app: App;
  close(): Promise<void>;
}

/** Another API process on the same database: its own connection, its own caches, and a clock of its own. */
export async function otherProcess(s: TestService, now?: () => number): Promise<OtherProcess> {
  const opened = openDb(s.db.url, s.db.schema ? { schema: s.db.schema, poolSize: 2 } : {});
  const base = makeCtx(opened);
  const ctx = now ? { ...base, now } : base;
  const engine = await makeEngine(ctx, opened);
  const app = await buildApp({ ctx, engine, authFailureLimit: TEST_AUTH_FAILURE_LIMIT });
  await app.ready();
  return {
    app,
    async close() {
      await app.close();
      await engine.close();
      await opened.close();
    },
  };
}

/** Polls until `probe` answers `status`: the other process's cached principal ends within its lifetime (~2 s). */
export async function waitForStatus(probe: () => Promise<number>, status: number, what: string): Promise<void> {
  // A bound so a failure ends the test, far above the cache lifetime; the test never relies on it otherwise.
  const deadline = Date.now() + 20_000;
  for (;;) {
    const got = await probe();
    if (got === status) return;
    if (Date.now() > deadline) assert.fail(`${what}: still ${got}, expected ${status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * What the browser tests share: Debian's Chromium driven by playwright-core against a real service (an
 * in-process createService on the test's database, SQLite or PostgreSQL, listening on a free port, the embedded
 * worker running batches), a fetch-based `api` helper for making data, and screenshots in test-artifacts/web/.
 *
 * Without a Chromium binary the suites are skipped with a message, except in CI (CI set), where that is a
 * failure: `.ci/run` installs it.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { buildWeb } from '../../src/api/web-ui.ts';
import { readConfig } from '../../src/config.ts';
import { createService, type Service } from '../../src/server.ts';
import type { Dialect } from '../../src/db/capabilities.ts';
import { createPgSchema, DIALECTS, PG_URL } from '../helpers/db.ts';
import { freePort, ROOT } from '../helpers/processes.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS = join(ROOT, 'test-artifacts/web');

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI)
  throw new Error(`CI is set but there is no Chromium at ${CHROMIUM}: .ci/run installs the chromium package.`);
/** The `skip` option for a browser-test suite: a reason, or false. */
export const skip = !haveChromium
  ? `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`
  : false;
if (skip && DIALECTS.length) console.warn(`# test/web skipped: ${skip}`);

export interface WebHarness {
  /** The test's temporary folder (database, Chromium profile). */
  dir: string;
  service: Service;
  /** http://127.0.0.1:PORT */
  base: string;
  browser: BrowserContext;
  page: Page;
  /** A native API call (`/api/v1` + path) with a bearer token (the admin's by default); the parsed JSON body. */
  api(method: string, path: string, body?: unknown, token?: string): Promise<any>;
  /** Waits (up to 30 s) until the batch is in a final state; returns it. */
  finished(ws: string, id: string, token?: string): Promise<any>;
  /** A full-page screenshot to test-artifacts/web/<prefix><name>.png. */
  shot(name: string): Promise<Buffer>;
}

/**
 * Call inside a `describe`: registers the hooks that build the UI bundle, start the service (admin token `admin`)
 * and Chromium before the tests, screenshot a failed test, and stop both after. The returned object is filled in
 * by the `before` hook, so read its fields in the suite's own `before` hooks and tests (registered after this).
 */
export function useWebHarness(opts: {
  dialect: Dialect;
  admin: string;
  tmpPrefix: string;
  shotPrefix?: string;
  env?: Record<string, string>;
}): WebHarness {
  let dropSchema: (() => Promise<void>) | undefined;
  const web = {
    async api(method: string, path: string, body?: unknown, token = opts.admin): Promise<any> {
      const res = await fetch(`${web.base}/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
      return text ? JSON.parse(text) : undefined;
    },
    async finished(ws: string, id: string, token = opts.admin): Promise<any> {
      for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
        const b = await web.api('GET', `/workspaces/${ws}/batches/${id}`, undefined, token);
        if (['succeeded', 'completed_with_errors', 'failed', 'cancelled'].includes(b.state)) return b;
      }
      throw new Error(`batch ${id} did not finish`);
    },
    shot: (name: string) =>
      web.page.screenshot({ path: join(ARTIFACTS, `${opts.shotPrefix ?? ''}${name}.png`), fullPage: true }),
  } as WebHarness;

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await buildWeb(); // the bundle of the sources under test, not a stale one
    web.dir = mkdtempSync(join(tmpdir(), opts.tmpPrefix));
    const port = await freePort();
    web.base = `http://127.0.0.1:${port}`;
    let database: Record<string, string> = { DATABASE_URL: join(web.dir, 'bg.db') };
    if (opts.dialect === 'postgres') {
      const { schema, drop } = await createPgSchema();
      dropSchema = drop;
      database = { DATABASE_URL: PG_URL, DATABASE_SCHEMA: schema };
    }
    const config = readConfig({
      PORT: String(port),
      HOST: '127.0.0.1',
      ...database,
      BATCHGATE_ADMIN_TOKEN: opts.admin,
      BATCHGATE_DEMO: '0',
      LOG_LEVEL: 'warn',
      ...opts.env,
    });
    web.service = await createService(config);

    // A fresh profile in the test's temporary folder: no state from an earlier run or the user's own browser.
    web.browser = await chromium.launchPersistentContext(join(web.dir, 'chromium-profile'), {
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1280, height: 800 },
      reducedMotion: 'reduce', // no bar animation: screenshots show the final state
      acceptDownloads: true,
    });
    web.page = web.browser.pages()[0] ?? (await web.browser.newPage());
    web.page.setDefaultTimeout(15_000);
    web.page.on('pageerror', (e) => console.error(`# page error: ${e.message}`));
  });

  afterEach(async (t) => {
    // What the page showed when a step failed: the first thing to look at.
    if (web.page && (t as unknown as { passed?: boolean }).passed === false)
      await web.shot(`failed-${t.name.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => {});
  });

  after(async () => {
    await web.browser?.close();
    await web.service?.close();
    await dropSchema?.();
    if (web.dir) rmSync(web.dir, { recursive: true, force: true });
  });

  return web;
}

/**
 * The web UI in a real browser: Debian's Chromium driven by playwright-core against a real service (SQLite,
 * in-process createService listening on a free port, the embedded worker running batches). Data is made through
 * the API; everything the approver does happens in the page. Screenshots go to test-artifacts/web/.
 *
 * Skipped under DIALECTS without SQLite (the UI does not depend on the database). Without a Chromium binary it
 * is skipped with a message, except in CI (CI set), where that is a failure: `.ci/run` installs it.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { buildWeb } from '../../src/api/web-ui.ts';
import { readConfig } from '../../src/config.ts';
import { createService, type Service } from '../../src/server.ts';
import { DIALECTS } from '../helpers/db.ts';
import { ROOT } from '../cli/harness.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test-artifacts/web');
const ADMIN = 'web-admin-token';

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) throw new Error(`CI is set but there is no Chromium at ${CHROMIUM}: .ci/run installs the chromium package.`);
const skip = !DIALECTS.includes('sqlite') ? 'the UI tests run on SQLite only' : !haveChromium ? `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)` : false;
if (skip && haveChromium === false && DIALECTS.includes('sqlite')) console.warn(`# test/web skipped: ${skip}`);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('web UI in Chromium', { skip, timeout: 120_000 }, () => {
  let dir: string;
  let service: Service;
  let base: string;
  let browser: BrowserContext;
  let page: Page;
  let ws: string;
  let ds: string;
  let approver: { id: string; token: string };

  async function api(method: string, path: string, body?: unknown, token = ADMIN): Promise<any> {
    const res = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  }

  async function finished(id: string, token = approver.token): Promise<any> {
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      const b = await api('GET', `/workspaces/${ws}/batches/${id}`, undefined, token);
      if (['succeeded', 'completed_with_errors', 'failed', 'cancelled'].includes(b.state)) return b;
    }
    throw new Error(`batch ${id} did not finish`);
  }

  /** Draft items; with `action`, run it on them as one batch and wait. */
  async function items(n: number, prefix: string, action?: string): Promise<string[]> {
    const { ids } = await api('POST', `/workspaces/${ws}/datastores/${ds}/items`, { items: Array.from({ length: n }, (_, i) => ({ title: `${prefix} ${i + 1}` })) });
    if (action) {
      const b = await api('POST', `/workspaces/${ws}/batches`, { operation: 'action', action, target: { ids } });
      assert.equal((await finished(b.id, ADMIN)).failed, 0);
    }
    return ids;
  }

  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await buildWeb(); // the bundle of the sources under test, not a stale one
    dir = mkdtempSync(join(tmpdir(), 'bg-web-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const config = readConfig({ PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: join(dir, 'bg.db'), BATCHGATE_ADMIN_TOKEN: ADMIN, BATCHGATE_DEMO: '0', LOG_LEVEL: 'warn' });
    service = await createService(config);

    ws = (await api('POST', '/workspaces', { name: 'Purchasing' })).id;
    const user = await api('POST', '/users', { name: 'Ada Approver' });
    approver = { id: user.id, token: (await api('POST', `/users/${user.id}/tokens`)).token };
    await api('PUT', `/workspaces/${ws}/members/${user.id}`, { role: 'approver' });
    const approval = { pending_status: 'pending', reject_status: 'rejected', approver_role: 'approver' };
    ds = (
      await api('POST', `/workspaces/${ws}/datastores`, {
        name: 'Requests',
        display_id: 'req',
        statuses: ['draft', 'done', 'pending', 'approved', 'rejected'].map((s) => ({ display_id: s, name: s[0]!.toUpperCase() + s.slice(1) })),
        actions: [
          { display_id: 'finish', name: 'Finish', from: ['draft'], to: 'done' },
          { display_id: 'reopen', name: 'Reopen', from: ['done'], to: 'draft' },
          { display_id: 'submit', name: 'Submit', from: ['draft'], to: 'approved', approval },
          { display_id: 'escalate', name: 'Escalate', from: ['draft'], to: 'approved', approval: { ...approval, batch_approvable: false } },
        ],
      })
    ).display_id;
    await items(200, 'Request', 'submit');
    await items(5, 'Escalation', 'escalate');

    // A fresh profile in the test's temporary folder: no state from an earlier run or the user's own browser.
    browser = await chromium.launchPersistentContext(join(dir, 'chromium-profile'), {
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 800 },
      reducedMotion: 'reduce', // no bar animation: screenshots show the final state
      acceptDownloads: true,
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (e) => console.error(`# page error: ${e.message}`));
  });

  afterEach(async (t) => {
    // What the page showed when a step failed: the first thing to look at.
    if (page && (t as unknown as { passed?: boolean }).passed === false) await shot(`failed-${t.name.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => {});
  });

  after(async () => {
    await browser?.close();
    await service?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves the UI at / next to the API, docs and health', async () => {
    const res = await fetch(`${base}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.equal((await fetch(`${base}/assets/app.js`)).status, 200);
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal((await fetch(`${base}/openapi.json`)).status, 200);
    const missing = await fetch(`${base}/api/v1/nope`, { headers: { authorization: `Bearer ${ADMIN}` } });
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as any).error.code, 'ROUTE_NOT_FOUND');
  });

  it('signs in with a pasted token and picks the workspace; the token stays out of the URL', async () => {
    await page.goto(base);
    await page.getByLabel('API token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'not valid' }).waitFor();
    await page.getByLabel('API token').fill(approver.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Workspace', { exact: true }).selectOption({ label: 'Purchasing' });
    await shot('1-sign-in');
    await page.getByRole('button', { name: 'Open workspace' }).click();
    await page.getByRole('heading', { name: 'Inbox' }).waitFor();
    assert.ok(!page.url().includes(approver.token));
    assert.equal(await page.evaluate("sessionStorage.getItem('batchgate.token')"), approver.token);
    assert.equal(await page.evaluate('localStorage.length'), 0);
  });

  it('bulk-approves 200 tickets from the inbox, after Check explains the 5 that cannot be', async () => {
    await page.getByText('205 pending tickets matching').waitFor();
    await page.getByLabel('Action').selectOption({ label: 'Escalate' });
    await page.getByText('5 pending tickets matching').waitFor();
    await page.getByLabel('Action').selectOption({ label: 'All actions' });
    await page.getByLabel('Select this page').check();
    await page.getByText('50 selected').waitFor();
    await page.getByRole('button', { name: 'Select all 205 matching' }).click();
    await page.getByText('205 selected').waitFor();
    await page.getByRole('button', { name: 'Check' }).click();
    await page.getByText('200 tickets can be decided in a batch; 5 tickets cannot.').waitFor();
    assert.equal(await page.locator('table.blocked tbody tr').count(), 5);
    await page.getByLabel('Comment').fill('Quarterly review: all fine');
    await shot('2-inbox-check');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(/#\/batches\/\d+$/);
    await page.getByText('5 tickets left out').waitFor();
    await page.locator('.badge.big', { hasText: 'succeeded' }).waitFor({ timeout: 30_000 });
    assert.equal(await statText('Succeeded'), '200');
    assert.equal(await statText('Pending'), '0');
    await shot('3-batch-approved');
    const left = await api('GET', `/workspaces/${ws}/tickets?assignee=me&state=pending`, undefined, approver.token);
    assert.equal(left.total, 5, 'only the 5 non-batchable tickets are left');
    await page.getByRole('link', { name: 'Inbox' }).click();
    await page.getByText('5 pending tickets matching').waitFor();
  });

  it('cancels a running batch from its page', async () => {
    const ids = await items(100, 'Slow');
    const b = await api('POST', `/workspaces/${ws}/batches`, { operation: 'action', action: 'finish', target: { ids }, max_rate: 5 }, approver.token);
    await page.getByRole('link', { name: 'Batches' }).click();
    const row = page.locator('tr', { has: page.getByRole('link', { name: b.id }) });
    await row.locator('.badge', { hasText: 'running' }).waitFor();
    await shot('4-batches-list');
    await page.getByRole('link', { name: b.id }).click();
    await page.locator('.badge.big', { hasText: 'running' }).waitFor();
    await page.getByText('Live').waitFor();
    await page.getByLabel('Max rate (items/s)').fill('4');
    await page.getByRole('button', { name: 'Set rate' }).click();
    await page.locator('.stats').getByText('4.0/s').waitFor();
    await page.getByRole('button', { name: 'Cancel batch' }).click();
    await page.locator('.badge.big', { hasText: 'cancelled' }).waitFor();
    const after = await api('GET', `/workspaces/${ws}/batches/${b.id}`, undefined, approver.token);
    assert.equal(after.state, 'cancelled');
    assert.ok(after.skipped > 0 && after.succeeded < 100);
    assert.ok(await page.getByRole('button', { name: 'Cancel batch' }).isDisabled());
    await page.getByLabel('Outcome', { exact: true }).selectOption('skipped');
    await page.locator('table.outcomes').getByText('BATCH_CANCELLED').first().waitFor();
    await shot('5-batch-cancelled');
  });

  it('lists failures, downloads them as CSV, and retries them after the cause is fixed', async () => {
    const ids = await items(30, 'Done', 'finish'); // already done: `finish` fails on them
    const b = await api('POST', `/workspaces/${ws}/batches`, { operation: 'action', action: 'finish', target: { ids } }, approver.token);
    await finished(b.id);
    await page.goto(`${base}/#/batches/${b.id}`);
    await page.locator('.badge.big', { hasText: 'completed with errors' }).waitFor();
    assert.equal(await statText('Failed'), '30');
    assert.equal(await page.getByLabel('Outcome', { exact: true }).inputValue(), 'failed');
    assert.equal(await page.locator('table.outcomes tbody tr').count(), 30);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download failures (CSV)' }).click()]);
    const csv = readFileSync(await download.path(), 'utf8').trim().split(/\r\n/);
    assert.equal(csv[0], 'seq,target_id,error_code,error_message,attempts');
    assert.equal(csv.length, 31);
    await shot('6-batch-failures');

    const reopen = await api('POST', `/workspaces/${ws}/batches`, { operation: 'action', action: 'reopen', target: { ids } });
    await finished(reopen.id, ADMIN);
    await page.getByRole('button', { name: 'Retry failed' }).click();
    await page.locator('.badge.big', { hasText: /^succeeded$/ }).waitFor();
    assert.equal(await statText('Succeeded'), '30');
    assert.equal(await statText('Failed'), '0');
    await shot('7-batch-retried');
  });

  it('fits a phone-width screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('link', { name: 'Inbox' }).click();
    await page.getByText('5 pending tickets matching').waitFor();
    const overflow = (await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')) as number;
    assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
    await shot('8-inbox-phone');
  });

  async function statText(label: string): Promise<string> {
    return (await page.locator('.stats div', { has: page.locator('dt', { hasText: new RegExp(`^${label}$`) }) }).locator('dd').textContent()) ?? '';
  }
});

/**
 * The web UI in a real browser (the harness in ./harness.ts: Chromium, playwright-core, an in-process service on
 * SQLite). Data is made through the API; everything the approver does happens in the page. Screenshots go to
 * test-artifacts/web/.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, it } from 'node:test';
import type { Page } from 'playwright-core';
import { skip, useWebHarness } from './harness.ts';
import { describeEachDialect } from '../helpers/db.ts';

const ADMIN = 'web-admin-token-0123456789abcdef012345';

describeEachDialect(
  'web UI in Chromium',
  (dialect) => {
    const web = useWebHarness({ dialect, admin: ADMIN, tmpPrefix: 'bg-web-', shotPrefix: `${dialect}-` });
    const { api, shot } = web;
    let base: string;
    let page: Page;
    let ws: string;
    let ds: string;
    let approver: { id: string; token: string };

    const finished = (id: string, token = approver.token) => web.finished(ws, id, token);

    /** Draft items; with `action`, run it on them as one batch and wait. */
    async function items(n: number, prefix: string, action?: string): Promise<string[]> {
      const { ids } = await api('POST', `/workspaces/${ws}/datastores/${ds}/items`, {
        items: Array.from({ length: n }, (_, i) => ({ title: `${prefix} ${i + 1}` })),
      });
      if (action) {
        const b = await api('POST', `/workspaces/${ws}/batches`, { operation: 'action', action, target: { ids } });
        assert.equal((await finished(b.id, ADMIN)).failed, 0);
      }
      return ids;
    }

    before(async () => {
      ({ base, page } = web);
      ws = (await api('POST', '/workspaces', { name: 'Purchasing' })).id;
      const user = await api('POST', '/users', { name: 'Ada Approver' });
      approver = { id: user.id, token: (await api('POST', `/users/${user.id}/tokens`)).token };
      await api('PUT', `/workspaces/${ws}/members/${user.id}`, { role: 'approver' });
      const approval = { pending_status: 'pending', reject_status: 'rejected', approver_role: 'approver' };
      ds = (
        await api('POST', `/workspaces/${ws}/datastores`, {
          name: 'Requests',
          display_id: 'req',
          statuses: ['draft', 'done', 'pending', 'approved', 'rejected'].map((s) => ({
            display_id: s,
            name: s[0]!.toUpperCase() + s.slice(1),
          })),
          actions: [
            { display_id: 'finish', name: 'Finish', from: ['draft'], to: 'done' },
            { display_id: 'reopen', name: 'Reopen', from: ['done'], to: 'draft' },
            { display_id: 'submit', name: 'Submit', from: ['draft'], to: 'approved', approval },
            {
              display_id: 'escalate',
              name: 'Escalate',
              from: ['draft'],
              to: 'approved',
              approval: { ...approval, batch_approvable: false },
            },
          ],
        })
      ).display_id;
      await items(200, 'Request', 'submit');
      await items(5, 'Escalation', 'escalate');
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

    it('filters the inbox by age (tickets made just now), combined with the other filters', async () => {
      await page.getByText('205 pending tickets matching').waitFor();
      const age = page.getByLabel('Age', { exact: true });
      await age.selectOption({ label: 'Older than 1 hour' });
      await page.getByText('0 pending tickets matching').waitFor();
      await page.getByText('No pending ticket matches these filters.').waitFor();
      await shot('2a-inbox-age-empty');
      await age.selectOption({ label: 'Newer than 1 day' });
      await page.getByText('205 pending tickets matching').waitFor();
      await page.getByRole('button', { name: 'Select all 205 matching' }).waitFor();
      await page.getByLabel('Action').selectOption({ label: 'Escalate' });
      await page.getByText('5 pending tickets matching').waitFor();
      await page.getByRole('button', { name: 'Select all 5 matching' }).waitFor();
      await shot('2b-inbox-age-newer');
      await age.selectOption({ label: 'Older than 7 days' });
      await page.getByText('0 pending tickets matching').waitFor();
      await page.getByRole('button', { name: 'Clear filters' }).click();
      await page.getByText('205 pending tickets matching').waitFor();
      assert.equal(await age.inputValue(), '');
      assert.equal(await page.getByLabel('Action').inputValue(), '');
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
      const b = await api(
        'POST',
        `/workspaces/${ws}/batches`,
        { operation: 'action', action: 'finish', target: { ids }, max_rate: 5 },
        approver.token,
      );
      await page.getByRole('link', { name: 'Batches' }).click();
      const row = page.locator('tr', { has: page.getByRole('link', { name: b.id }) });
      await row.locator('.badge', { hasText: 'running' }).waitFor();
      // The row follows the batch's event stream: its count moves before the list is read again (its 5 s re-read).
      const done = row.locator('td.num').first();
      let listReads = 0;
      const countReads = (req: { url(): string; method(): string }) => {
        if (req.method() === 'GET' && /\/batches\?limit=/.test(req.url())) listReads++;
      };
      page.on('request', countReads);
      const before = await done.textContent();
      while ((await done.textContent()) === before) await new Promise((r) => setTimeout(r, 50));
      page.off('request', countReads);
      assert.equal(listReads, 0, 'the list row moved live, not on the list re-read');
      await shot('4-batches-list');
      await page.getByRole('link', { name: b.id }).click();
      await page.locator('.badge.big', { hasText: 'running' }).waitFor();
      await page.getByText('Live').waitFor();
      await page.getByLabel('Max rate (items/s)').fill('4');
      await page.getByRole('button', { name: 'Set rate' }).click();
      // The Max rate stat itself: the measured Rate may read 4.0/s too.
      await page
        .locator('.stats div', { has: page.locator('dt', { hasText: /^Max rate$/ }) })
        .locator('dd', { hasText: '4.0/s' })
        .waitFor();
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
      const b = await api(
        'POST',
        `/workspaces/${ws}/batches`,
        { operation: 'action', action: 'finish', target: { ids } },
        approver.token,
      );
      await finished(b.id);
      await page.goto(`${base}/#/batches/${b.id}`);
      await page.locator('.badge.big', { hasText: 'completed with errors' }).waitFor();
      assert.equal(await statText('Failed'), '30');
      assert.equal(await page.getByLabel('Outcome', { exact: true }).inputValue(), 'failed');
      assert.equal(await page.locator('table.outcomes tbody tr').count(), 30);
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: 'Download failures (CSV)' }).click(),
      ]);
      const csv = readFileSync(await download.path(), 'utf8')
        .trim()
        .split(/\r\n/);
      assert.equal(csv[0], 'seq,target_id,error_code,error_message,attempts');
      assert.equal(csv.length, 31);
      await shot('6-batch-failures');

      const reopen = await api('POST', `/workspaces/${ws}/batches`, {
        operation: 'action',
        action: 'reopen',
        target: { ids },
      });
      await finished(reopen.id, ADMIN);
      await page.getByRole('button', { name: 'Retry failed' }).click();
      await page.locator('.badge.big', { hasText: /^succeeded$/ }).waitFor();
      assert.equal(await statText('Succeeded'), '30');
      assert.equal(await statText('Failed'), '0');
      await shot('7-batch-retried');
    });

    it('sets a priority, previews a revert and reverts a batch from its page; an item changed since is a conflict', async () => {
      const ids = await items(4, 'Undo');
      // Submitted by the signed-in approver: controls and reverts are for the submitter (or an admin).
      const b = await api(
        'POST',
        `/workspaces/${ws}/batches`,
        {
          operation: 'action',
          action: 'finish',
          target: { ids },
          start_at: new Date(Date.now() + 3_600_000).toISOString(),
        },
        approver.token,
      );
      await page.goto(`${base}/#/batches/${b.id}`);
      await page.locator('.badge.big', { hasText: 'scheduled' }).waitFor();
      assert.equal(await statText('Priority'), '10');
      await page.getByLabel('Priority (1–100)').fill('25');
      await page.getByRole('button', { name: 'Set priority' }).click();
      await page
        .locator('.stats div', { has: page.locator('dt', { hasText: /^Priority$/ }) })
        .getByText('25')
        .waitFor();
      assert.equal((await api('GET', `/workspaces/${ws}/batches/${b.id}`)).priority, 25);
      assert.ok(
        await page.getByRole('button', { name: 'Revert batch' }).isDisabled(),
        'nothing to revert before it ran',
      );

      await api('POST', `/workspaces/${ws}/batches/${b.id}/cancel`, {}, approver.token);
      const done = await api(
        'POST',
        `/workspaces/${ws}/batches`,
        { operation: 'action', action: 'finish', target: { ids } },
        approver.token,
      );
      await finished(done.id, ADMIN);
      // Changed since: one item moved on by hand.
      await api('POST', `/workspaces/${ws}/items/${ids[0]}/actions/reopen`, {});
      await page.goto(`${base}/#/batches/${done.id}`);
      await page.locator('.badge.big', { hasText: /^succeeded$/ }).waitFor();
      await page.getByRole('button', { name: 'Preview revert' }).click();
      await page.waitForURL(new RegExp(`#/batches/(?!${done.id})\\d+$`));
      await page.getByText(`reverts batch ${done.id}`).waitFor();
      await page.locator('.badge.big', { hasText: 'completed with errors' }).waitFor({ timeout: 30_000 });
      assert.deepEqual([await statText('Succeeded'), await statText('Failed')], ['3', '1']);
      await page.locator('table.outcomes').getByText('REVERT_CONFLICT').waitFor();
      const states = async () =>
        Promise.all(ids.map(async (id) => (await api('GET', `/workspaces/${ws}/items/${id}`)).status));
      assert.deepEqual(await states(), ['draft', 'done', 'done', 'done'], 'a preview changes nothing');

      await page.goto(`${base}/#/batches/${done.id}`);
      page.once('dialog', (d) => void d.accept());
      await page.getByRole('button', { name: 'Revert batch' }).click();
      await page.waitForURL(new RegExp(`#/batches/(?!${done.id})\\d+$`));
      await page.locator('.badge.big', { hasText: 'completed with errors' }).waitFor({ timeout: 30_000 });
      assert.deepEqual(
        await states(),
        ['draft', 'draft', 'draft', 'draft'],
        'three put back, the changed one left as it was',
      );
      await shot('9-batch-reverted');
    });

    it('fits a phone-width screen', async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      await page.getByRole('link', { name: 'Inbox' }).click();
      await page.getByText('5 pending tickets matching').waitFor();
      const overflow = (await page.evaluate(
        'document.documentElement.scrollWidth - document.documentElement.clientWidth',
      )) as number;
      assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
      await shot('8-inbox-phone');
    });

    async function statText(label: string): Promise<string> {
      return (
        (await page
          .locator('.stats div', { has: page.locator('dt', { hasText: new RegExp(`^${label}$`) }) })
          .locator('dd')
          .textContent()) ?? ''
      );
    }
  },
  { skip, timeout: 120_000 },
);

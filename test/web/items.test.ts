/**
 * The Items page in a real browser (the harness in ./harness.ts, as ui.test.ts): a condition builder whose
 * conditions must be exactly what the search API takes, then a bulk action with a dry run that reports failures
 * and changes nothing, then the real run on the batch page. Screenshots go to test-artifacts/web/items-*.png.
 */
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import type { Page } from 'playwright-core';
import { skip, useWebHarness } from './harness.ts';
import { describeEachDialect } from '../helpers/db.ts';

const ADMIN = 'web-items-admin-token-0123456789abcdef';

describeEachDialect(
  'web UI: Items page in Chromium',
  (dialect) => {
    const web = useWebHarness({ dialect, admin: ADMIN, tmpPrefix: 'bg-web-items-', shotPrefix: `${dialect}-items-` });
    const { api, shot } = web;
    let base: string;
    let page: Page;
    let ws: string;
    let ds: string;
    let operator: { id: string; token: string };
    let ids: string[];

    const finished = (id: string, token = ADMIN) => web.finished(ws, id, token);

    /** How many items the API itself finds for these conditions. */
    async function count(conditions: unknown[], useOr = false): Promise<number> {
      const res = await api('POST', `/workspaces/${ws}/datastores/${ds}/items/search`, {
        conditions,
        use_or_condition: useOr,
        per_page: 1,
      });
      return res.total;
    }

    const pad = (i: number) => String(i).padStart(2, '0');

    before(async () => {
      ({ base, page } = web);
      ws = (await api('POST', '/workspaces', { name: 'Sales' })).id;
      const user = await api('POST', '/users', { name: 'Olga Operator' });
      operator = { id: user.id, token: (await api('POST', `/users/${user.id}/tokens`)).token };
      await api('PUT', `/workspaces/${ws}/members/${user.id}`, { role: 'member' });
      ds = (
        await api('POST', `/workspaces/${ws}/datastores`, {
          name: 'Orders',
          display_id: 'orders',
          fields: [
            { display_id: 'note', name: 'Note', type: 'text' },
            { display_id: 'region', name: 'Region', type: 'select', options: ['north', 'south'] },
            { display_id: 'amount', name: 'Amount', type: 'number' },
            { display_id: 'due', name: 'Due', type: 'date' },
            { display_id: 'at', name: 'Booked at', type: 'datetime' },
          ],
          statuses: [
            { display_id: 'draft', name: 'Draft' },
            { display_id: 'done', name: 'Done' },
          ],
          actions: [{ display_id: 'finish', name: 'Finish', from: ['draft'], to: 'done' }],
        })
      ).display_id;
      // Order i: amount 10·i, north when i is odd, a note on every 4th, due 2026-01-i, booked 2026-01-i 12:00Z.
      ids = (
        await api('POST', `/workspaces/${ws}/datastores/${ds}/items`, {
          items: Array.from({ length: 20 }, (_, k) => {
            const i = k + 1;
            return {
              title: `Order ${i}`,
              fields: {
                amount: i * 10,
                region: i % 2 ? 'north' : 'south',
                ...(i % 4 === 0 ? { note: `vip ${i}` } : {}),
                due: `2026-01-${pad(i)}`,
                at: `2026-01-${pad(i)}T12:00:00Z`,
              },
            };
          }),
        })
      ).ids;
      // Orders 3 and 5 are already done: finishing them again fails with WRONG_STATUS.
      const b = await api('POST', `/workspaces/${ws}/batches`, {
        operation: 'action',
        action: 'finish',
        target: { ids: [ids[2], ids[4]] },
      });
      assert.equal((await finished(b.id)).succeeded, 2);
    });

    /** Sets condition row n in the page: field and operator by label, then the values (one, or from/to). */
    async function setRow(n: number, field: string, op: string, values: string[] = []): Promise<void> {
      await page.getByLabel(`Condition ${n} field`).selectOption({ label: field });
      await page.getByLabel(`Condition ${n} operator`).selectOption({ label: op });
      const value = page.getByLabel(`Condition ${n} value`);
      if (values.length === 1 && (await value.evaluate((el) => el.tagName)) === 'SELECT')
        await value.selectOption({ label: values[0]! });
      else if (values.length === 1) await value.fill(values[0]!);
      else if (values.length === 2) {
        await page.getByLabel(`Condition ${n} from`).fill(values[0]!);
        await page.getByLabel(`Condition ${n} to`).fill(values[1]!);
      }
    }

    /** Presses Apply; returns the search body the page sent, after the page shows its result. */
    async function applied(expectTotal: number): Promise<any> {
      const [req] = await Promise.all([
        page.waitForRequest(
          (r) => r.method() === 'POST' && r.url().endsWith(`/datastores/${encodeURIComponent(dsId)}/items/search`),
        ),
        page.getByRole('button', { name: 'Apply' }).click(),
      ]);
      await page.getByText(new RegExp(`^${expectTotal} items? matching`)).waitFor();
      return req.postDataJSON();
    }
    let dsId: string;

    it('signs in and opens the Items page on the only datastore', async () => {
      dsId = (await api('GET', `/workspaces/${ws}/datastores/${ds}`)).id;
      await page.goto(base);
      await page.getByLabel('API token').fill(operator.token);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByLabel('Workspace', { exact: true }).selectOption({ label: 'Sales' });
      await page.getByRole('button', { name: 'Open workspace' }).click();
      await page.getByRole('link', { name: 'Items' }).click();
      await page.getByRole('heading', { name: 'Items' }).waitFor();
      await page.getByText('20 items matching').waitFor();
      assert.equal(await page.getByLabel('Datastore', { exact: true }).inputValue(), dsId);
      const headers = await page.locator('table.items thead th').allTextContents();
      assert.deepEqual(headers.slice(1), ['Title', 'Status', 'Rev.', 'Note', 'Region', 'Amount', 'Due', 'Booked at']);
      await shot('1-browse');
    });

    it('builds one condition of each kind, each exactly what the search API takes', async () => {
      await page.getByRole('button', { name: 'Add condition' }).click();
      // A missing value is caught in the page, before any request.
      await page.getByLabel('Condition 1 field').selectOption({ label: 'Title' });
      await page.getByRole('button', { name: 'Apply' }).click();
      await page.getByRole('alert').filter({ hasText: 'Condition 1: Title: enter a value.' }).waitFor();

      const cases: [string, string, string[], unknown, number][] = [
        ['Title', 'contains', ['Order 1'], { id: 'title', search_value: ['Order 1'] }, 11],
        ['Title', 'equals', ['Order 7'], { id: 'title', search_value: ['Order 7'], exact_match: true }, 1],
        ['Note (note)', 'does not contain', ['vip'], { id: 'note', search_value: ['vip'], not_match: true }, 15],
        ['Note (note)', 'is blank', [], { id: 'note', search_value: [], include_null: true }, 15],
        ['Region (region)', 'is', ['north'], { id: 'region', search_value: ['north'], exact_match: true }, 10],
        [
          'Status',
          'is not',
          ['Done'],
          { id: 'status', search_value: ['done'], exact_match: true, not_match: true },
          18,
        ],
        ['Amount (amount)', 'between', ['30', '120'], { id: 'amount', search_value: [30, 120] }, 10],
        [
          'Amount (amount)',
          'does not equal',
          ['50'],
          { id: 'amount', search_value: [50], exact_match: true, not_match: true },
          19,
        ],
        [
          'Due (due)',
          'between',
          ['2026-01-05', '2026-01-10'],
          { id: 'due', search_value: ['2026-01-05', '2026-01-10'] },
          6,
        ],
        ['Booked at (at)', 'between', ['2026-01-15', ''], { id: 'at', search_value: ['2026-01-15', null] }, 6],
        [
          'Booked at (at)',
          'not between',
          ['2026-01-03', '2026-01-20'],
          { id: 'at', search_value: ['2026-01-03', '2026-01-20'], not_match: true },
          2,
        ],
      ];
      for (const [field, op, values, condition, n] of cases) {
        await setRow(1, field, op, values);
        const body = await applied(n);
        assert.deepEqual(body.conditions, [condition], `${field} ${op}`);
        assert.equal(await count([condition]), n, `the API agrees on ${field} ${op}`);
      }
      await shot('2-condition');

      // Nothing matches: the empty state.
      await setRow(1, 'Title', 'equals', ['No such order']);
      await applied(0);
      await page.getByText('No item matches these conditions.').waitFor();

      // OR of two rows.
      await setRow(1, 'Title', 'equals', ['Order 2']);
      await page.getByRole('button', { name: 'Add condition' }).click();
      await setRow(2, 'Title', 'equals', ['Order 3']);
      await page.getByLabel('any condition (OR)').check();
      const or = await applied(2);
      assert.equal(or.use_or_condition, true);
      assert.equal(or.conditions.length, 2);
    });

    it('dry-runs an action on all matching items: reports WRONG_STATUS failures and changes nothing', async () => {
      // North orders with an amount from 30 to 120: orders 3, 5, 7, 9, 11; 3 and 5 are already done.
      await setRow(1, 'Region (region)', 'is', ['north']);
      await setRow(2, 'Amount (amount)', 'between', ['30', '120']);
      await page.getByLabel('all conditions (AND)').check();
      const body = await applied(5);
      assert.equal(body.use_or_condition, undefined);
      await page.getByRole('button', { name: 'Select all 5 matching' }).click();
      await page.getByText('5 items matching · 5 selected').waitFor();
      assert.ok(await page.getByRole('button', { name: 'Run', exact: true }).isDisabled(), 'no Run before a dry run');
      await page.getByLabel('Operation', { exact: true }).selectOption({ label: 'Action: Finish' });
      await shot('3-selected');
      await page.getByRole('button', { name: 'Dry run' }).click();
      await page.getByText('of 5 items, 3 would succeed, 2 would fail. Nothing was changed.').waitFor();
      const failures = page.locator('table.dry-failures tbody tr');
      assert.equal(await failures.count(), 2);
      assert.deepEqual((await failures.locator('td:nth-child(2)').allTextContents()).sort(), [
        'WRONG_STATUS',
        'WRONG_STATUS',
      ]);
      assert.deepEqual((await failures.locator('td:nth-child(1)').allTextContents()).sort(), ['Order 3', 'Order 5']);
      await shot('4-dry-run');

      const done = { id: 'status', search_value: ['done'] };
      assert.equal(await count([done]), 2, 'the dry run changed no item');
      const batches = await api('GET', `/workspaces/${ws}/batches`, undefined, operator.token);
      assert.ok(
        batches.batches.every((b: any) => b.dry_run || b.submitted_by !== operator.id),
        'only a dry run was submitted from the page',
      );
    });

    it('runs it for real and follows the batch to the end', async () => {
      const run = page.getByRole('button', { name: 'Run', exact: true });
      assert.ok(await run.isEnabled());
      await run.click();
      await page.waitForURL(/#\/batches\/\d+$/);
      await page.locator('.badge.big', { hasText: 'completed with errors' }).waitFor({ timeout: 30_000 });
      assert.equal(await statText('Succeeded'), '3');
      assert.equal(await statText('Failed'), '2');
      await shot('5-run');
      assert.equal(await count([{ id: 'status', search_value: ['done'] }]), 5);
    });

    it('updates a field on selected items: dry run, then run', async () => {
      await page.getByRole('link', { name: 'Items' }).click();
      await page.getByText('20 items matching').waitFor();
      await page.getByLabel('Select Order 1', { exact: true }).check();
      await page.getByLabel('Select Order 2', { exact: true }).check();
      await page.getByText('2 selected').waitFor();
      await page.getByLabel('Operation', { exact: true }).selectOption({ label: 'Update a field' });
      await page.getByLabel('Field to set').selectOption({ label: 'Note' });
      await page.getByLabel('New value').fill('checked');
      await page.getByRole('button', { name: 'Dry run' }).click();
      await page.getByText('of 2 items, 2 would succeed, 0 would fail. Nothing was changed.').waitFor();
      assert.equal(await count([{ id: 'note', search_value: ['checked'] }]), 0);
      await page.getByLabel('New value').fill('changed my mind');
      assert.ok(
        await page.getByRole('button', { name: 'Run', exact: true }).isDisabled(),
        'a changed operation needs a new dry run',
      );
      await page.getByLabel('New value').fill('checked');
      await page.getByRole('button', { name: 'Dry run' }).click();
      await page.getByText('of 2 items, 2 would succeed').waitFor();
      await page.getByRole('button', { name: 'Run', exact: true }).click();
      await page.locator('.badge.big', { hasText: /^succeeded$/ }).waitFor({ timeout: 30_000 });
      const hit = await api('POST', `/workspaces/${ws}/datastores/${ds}/items/search`, {
        conditions: [{ id: 'note', search_value: ['checked'], exact_match: true }],
      });
      assert.deepEqual(hit.items.map((i: any) => i.title).sort(), ['Order 1', 'Order 2']);
    });

    it('fits a phone-width screen', async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      await page.getByRole('link', { name: 'Items' }).click();
      await page.getByText('20 items matching').waitFor();
      await page.getByRole('button', { name: 'Add condition' }).click();
      await setRow(1, 'Amount (amount)', 'between', ['30', '']);
      await applied(18);
      const overflow = (await page.evaluate(
        'document.documentElement.scrollWidth - document.documentElement.clientWidth',
      )) as number;
      assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
      await shot('6-phone');
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

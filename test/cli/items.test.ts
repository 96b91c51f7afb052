import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, it } from 'node:test';
import { describeEachDialect } from '../helpers/db.ts';
import { exits, json, startHarness, type Harness } from './harness.ts';

/** `batchgate items import | export` as processes against a real `batchgate serve` (SQLite only). */
const T = { timeout: 180_000 };

const CSV = [
  'title,status,amount,vendor,due,extra',
  'Plain,draft,10,acme,2026-01-31,',
  '"Comma, and ""quotes""",done,20.5,"multi',
  'line",,"{""k"":[1,2]}"',
  'No fields,,,,,',
  '',
].join('\r\n');

function comparable(items: any[]): any[] {
  return items
    .map((i) => ({ title: i.title, status: i.status, fields: i.fields }))
    .sort((a, b) => (a.title < b.title ? -1 : 1));
}

describeEachDialect('batchgate items (client commands as processes)', (dialect) => {
  let h: Harness;
  before(async () => (h = await startHarness(dialect)));
  after(() => h?.close());

  const exportNdjson = async (ds: string) =>
    exits(await h.cli(['items', 'export', ds]), 0)
      .stdout.split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));

  it('imports CSV, exports CSV and NDJSON, and both exports import back to the same items', T, async () => {
    const src = await h.datastore('src_csv');
    const imported = json(exits(await h.cli(['items', 'import', src, h.file('in.csv', CSV), '--json']), 0));
    assert.equal(imported.imported, 3);
    assert.equal(imported.ids.length, 3);
    const items = await exportNdjson(src);
    assert.deepEqual(comparable(items), [
      {
        title: 'Comma, and "quotes"',
        status: 'done',
        fields: { amount: 20.5, vendor: 'multi\r\nline', extra: { k: [1, 2] } },
      },
      { title: 'No fields', status: 'draft', fields: {} },
      { title: 'Plain', status: 'draft', fields: { amount: 10, vendor: 'acme', due: '2026-01-31' } },
    ]);
    assert.deepEqual(
      items.map((i) => i.id),
      imported.ids,
      'exported in id order, which is import order',
    );

    const csvFile = h.file('out.csv', '');
    const wrote = json(exits(await h.cli(['items', 'export', src, '-o', csvFile, '--json']), 0));
    assert.deepEqual([wrote.exported, wrote.format], [3, 'csv']);
    assert.match(readFileSync(csvFile, 'utf8').split('\n')[0]!, /^id,title,status,amount,vendor,due,extra$/);
    const fromCsv = await h.datastore('from_csv');
    assert.match(
      exits(await h.cli(['items', 'import', fromCsv, csvFile]), 0).stdout,
      /imported 3 item\(s\) into from_csv/,
    );
    assert.deepEqual(comparable(await exportNdjson(fromCsv)), comparable(items));

    const ndjsonFile = h.file('out.ndjson', '');
    exits(await h.cli(['items', 'export', src, '--output', ndjsonFile]), 0);
    const fromNdjson = await h.datastore('from_ndjson');
    exits(await h.cli(['items', 'import', fromNdjson, ndjsonFile]), 0);
    assert.deepEqual(comparable(await exportNdjson(fromNdjson)), comparable(items));

    // --where narrows the export.
    const where = JSON.stringify([{ id: 'amount', search_value: [15, null] }]);
    const narrowed = exits(await h.cli(['items', 'export', src, '--where', where, '--format', 'csv']), 0)
      .stdout.trim()
      .split('\n');
    assert.equal(narrowed.length, 1 + 2, narrowed.join('\n')); // header, and the quoted vendor's two lines
  });

  it('streams NDJSON from stdin in requests of at most --batch-size items, with progress', T, async () => {
    const ds = await h.datastore('bulk');
    const lines = Array.from({ length: 2500 }, (_, i) =>
      JSON.stringify({ title: `n${i}`, fields: { amount: i } }),
    ).join('\n');
    const r = exits(await h.cli(['items', 'import', ds, '-', '--batch-size', '1000'], { stdin: lines + '\n' }), 0);
    assert.match(r.stdout, /imported 2500 item\(s\)/);
    assert.match(r.stderr, /import: 2500 items imported/);
    const total = (
      await h.api('POST', `/api/v1/workspaces/${h.workspace}/datastores/${ds}/items/search`, {
        return_count_only: true,
      })
    ).total;
    assert.equal(total, 2500);
    // More than 1000 per request is refused before anything is sent.
    exits(await h.cli(['items', 'import', ds, '-', '--batch-size', '1001'], { stdin: lines }), 2);
    assert.equal(
      JSON.parse(exits(await h.cli(['items', 'export', ds, '--json', '-o', h.file('bulk.ndjson', '')]), 0).stdout)
        .exported,
      2500,
    );
  });

  it('refuses bad input with exit 2 and says where', T, async () => {
    const ds = await h.datastore('bad');
    const header = exits(await h.cli(['items', 'import', ds, h.file('bad.csv', 'title,colour\nx,red\n')]), 2);
    assert.match(header.stderr, /unknown column\(s\) colour/);
    const cell = exits(await h.cli(['items', 'import', ds, h.file('bad2.csv', 'title,amount\nx,1\ny,lots\n')]), 2);
    assert.match(cell.stderr, /row 3, column amount: not a number/);
    const server = exits(
      await h.cli(['items', 'import', ds, h.file('bad.ndjson', '{"title":"a"}\n{"title":"b","status":"nope"}\n')]),
      2,
    );
    assert.match(server.stderr, /items 1-2 were refused \(0 imported before them\): STATUS_NOT_FOUND/);
    const missing = exits(await h.cli(['items', 'export', 'no_such_ds']), 2);
    assert.match(missing.stderr, /DATASTORE_NOT_FOUND/);
  });
});

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { formatLogicalType, LOGICAL_TYPES, parseLogicalType } from '../../src/core/models/logical-types.ts';
import { PHYSICAL_DIALECTS } from '../../src/core/models/physical/index.ts';

const { POSTGRESQL: pgType, SQLITE: liteType } = PHYSICAL_DIALECTS;
const readme = readFileSync(new URL('../../docs/dataarts.md', import.meta.url), 'utf8');

/** The "Type mapping" table of docs/dataarts.md as [logical, postgres, sqlite] rows, with n, p and s made concrete. */
function readmeRows(): [string, string, string][] {
  const from = readme.indexOf('| logical | PostgreSQL | SQLite |');
  const table = readme.slice(from, readme.indexOf('\n\n', from));
  const rows = table.split('\n').filter((l) => l.startsWith('| `'));
  const concrete = (t: string) => t.replaceAll('`', '').replace('(n)', '(20)').replace('(p,s)', '(10,2)');
  return rows.map(
    (r) =>
      r
        .split('|')
        .slice(1, 4)
        .map((c) => concrete(c.trim())) as [string, string, string],
  );
}

it('docs/dataarts.md documents the mapping the code applies, for every logical type', () => {
  const rows = readmeRows();
  assert.deepEqual(
    [...new Set(rows.map(([l]) => parseLogicalType(l)!.name))].sort(),
    [...LOGICAL_TYPES].sort(),
    'every logical type has a row',
  );
  for (const [logical, postgres, sqlite] of rows) {
    const t = parseLogicalType(logical)!;
    assert.equal(formatLogicalType(t), logical);
    assert.equal(pgType.typeOf(t), postgres, logical);
    assert.equal(liteType.typeOf(t), sqlite, logical);
    // PostgreSQL's spelling reverses to the same logical type; SQLite's to what the table's next paragraph says.
    assert.equal(formatLogicalType(pgType.logicalOf(postgres)!), logical, postgres);
  }
});

it('parses logical types, their aliases and sizes, and refuses the rest', () => {
  const ok: [string, string][] = [
    ['string(64)', 'STRING(64)'],
    ['VARCHAR(8)', 'STRING(8)'],
    ['varchar', 'STRING'],
    ['integer', 'INT'],
    ['Numeric(10, 2)', 'DECIMAL(10,2)'],
    ['DECIMAL(5)', 'DECIMAL(5,0)'],
    ['bool', 'BOOLEAN'],
    ['DATETIME', 'TIMESTAMP'],
    ['bytes', 'BINARY'],
    ['jsonb', 'JSON'],
    [' uuid ', 'UUID'],
  ];
  for (const [text, want] of ok) assert.equal(formatLogicalType(parseLogicalType(text)!), want, text);
  for (const bad of [
    'MONEY',
    'STRING(0)',
    'STRING(1,2)',
    'DECIMAL(2,5)',
    'DECIMAL(0)',
    'INT(4)',
    'TEXT(10)',
    '',
    'STRING(',
    'int; drop table x',
  ]) {
    assert.equal(parseLogicalType(bad), null, bad);
  }
});

it('reads PostgreSQL types by their format_type spelling and short forms; others have no logical type', () => {
  const cases: [string, string | null][] = [
    ['character varying(32)', 'STRING(32)'],
    ['character(1)', 'STRING(1)'],
    ['bpchar', 'STRING(1)'],
    ['int4', 'INT'],
    ['int8', 'BIGINT'],
    ['numeric(12,2)', 'DECIMAL(12,2)'],
    ['numeric', 'DECIMAL'],
    ['float8', 'DOUBLE'],
    ['timestamp(3) without time zone', 'TIMESTAMP'],
    ['timestamptz', 'TIMESTAMPTZ'],
    ['json', 'JSON'],
    ['text[]', null],
    ['interval', null],
    ['USER-DEFINED', null],
  ];
  for (const [pg, want] of cases) {
    const t = pgType.logicalOf(pg);
    assert.equal(t ? formatLogicalType(t) : null, want, pg);
  }
});

it("reads any SQLite type: known names first, then SQLite's affinity rules in their order", () => {
  const cases: [string, string][] = [
    ['INTEGER', 'INT'],
    ['varchar(10)', 'STRING(10)'],
    ['NVARCHAR(5)', 'STRING(5)'],
    ['CLOB', 'TEXT'],
    ['REAL', 'DOUBLE'],
    ['DATETIME', 'TIMESTAMP'],
    ['decimal(10,2)', 'DECIMAL(10,2)'],
    ['UNSIGNED BIG INT', 'BIGINT'],
    // https://sqlite.org/datatype3.html §3.1.1: "FLOATING POINT" has INTEGER affinity (rule 1 comes first).
    ['FLOATING POINT', 'BIGINT'],
    ['MEDIUMTEXT', 'TEXT'],
    ['', 'BINARY'],
    ['RAW BLOB', 'BINARY'],
    ['DOUBLE PRECISION', 'DOUBLE'],
    ['MONEY', 'DECIMAL'],
  ];
  for (const [lite, want] of cases)
    assert.equal(formatLogicalType(liteType.logicalOf(lite)!), want, JSON.stringify(lite));
});

it('quotes identifiers by doubling quotes, and PostgreSQL comments by doubling apostrophes', () => {
  const table = {
    tb_name: 'we"ird',
    description: "it's",
    columns: [{ name_en: 'a"b', data_type: 'text', not_null: true, is_primary_key: true, description: "o'k" }],
  };
  assert.deepEqual(pgType.createTable(table), [
    'CREATE TABLE "we""ird" (\n  "a""b" text NOT NULL,\n  PRIMARY KEY ("a""b")\n)',
    `COMMENT ON TABLE "we""ird" IS 'it''s'`,
    `COMMENT ON COLUMN "we""ird"."a""b" IS 'o''k'`,
  ]);
  assert.deepEqual(liteType.createTable({ ...table, columns: [{ ...table.columns[0]!, data_type: 'TEXT' }] }), [
    'CREATE TABLE "we""ird" (\n  "a""b" TEXT NOT NULL,\n  PRIMARY KEY ("a""b")\n)',
  ]);
  assert.deepEqual(liteType.createTable({ tb_name: 'x\ny', description: null, columns: [] }), [
    '-- "x y" has no columns; SQLite cannot create a table without one',
  ]);
});

import type { LogicalType } from '../logical-types.ts';
import type { PhysicalDialect, PhysicalTableDef } from './types.ts';

const quote = (identifier: string) => `"${identifier.replaceAll('"', '""')}"`;

/**
 * Logical → SQLite. SQLite keeps the declared type name and derives a storage affinity from it, so the names
 * chosen keep both the right affinity (VARCHAR → TEXT, BIGINT → INTEGER, DOUBLE → REAL, DECIMAL → NUMERIC) and
 * what the type meant, for a later reverse. It has no time zones, JSON or UUID types: TIMESTAMPTZ is TIMESTAMP,
 * JSON and UUID are TEXT.
 */
function typeOf(t: LogicalType): string {
  switch (t.name) {
    case 'STRING':
      return t.length === undefined ? 'VARCHAR' : `VARCHAR(${t.length})`;
    case 'TEXT':
      return 'TEXT';
    case 'INT':
      return 'INTEGER';
    case 'BIGINT':
      return 'BIGINT';
    case 'SMALLINT':
      return 'SMALLINT';
    case 'DECIMAL':
      return t.precision === undefined ? 'DECIMAL' : `DECIMAL(${t.precision},${t.scale ?? 0})`;
    case 'FLOAT':
      return 'FLOAT';
    case 'DOUBLE':
      return 'DOUBLE';
    case 'BOOLEAN':
      return 'BOOLEAN';
    case 'DATE':
      return 'DATE';
    case 'TIME':
      return 'TIME';
    case 'TIMESTAMP':
    case 'TIMESTAMPTZ':
      return 'TIMESTAMP';
    case 'BINARY':
      return 'BLOB';
    case 'JSON':
    case 'UUID':
      return 'TEXT';
  }
}

/** Declared names that say what they mean; checked before SQLite's affinity rules. */
const NAMED: readonly [RegExp, (m: RegExpExecArray) => LogicalType][] = [
  [
    /^(?:VARCHAR|CHARACTER VARYING|VARYING CHARACTER|NVARCHAR|NATIVE CHARACTER|CHARACTER|CHAR|NCHAR)(?:\((\d+)\))?$/,
    (m) => (m[1] ? { name: 'STRING', length: Number(m[1]) } : { name: 'STRING' }),
  ],
  [/^(?:TEXT|CLOB)$/, () => ({ name: 'TEXT' })],
  [/^(?:INTEGER|INT|MEDIUMINT)$/, () => ({ name: 'INT' })],
  [/^(?:BIGINT|INT8|UNSIGNED BIG INT)$/, () => ({ name: 'BIGINT' })],
  [/^(?:SMALLINT|TINYINT|INT2)$/, () => ({ name: 'SMALLINT' })],
  [
    /^(?:DECIMAL|NUMERIC)(?:\((\d+)(?:,\s*(\d+))?\))?$/,
    (m) => (m[1] ? { name: 'DECIMAL', precision: Number(m[1]), scale: Number(m[2] ?? 0) } : { name: 'DECIMAL' }),
  ],
  [/^FLOAT$/, () => ({ name: 'FLOAT' })],
  [/^(?:REAL|DOUBLE|DOUBLE PRECISION)$/, () => ({ name: 'DOUBLE' })],
  [/^(?:BOOLEAN|BOOL)$/, () => ({ name: 'BOOLEAN' })],
  [/^DATE$/, () => ({ name: 'DATE' })],
  [/^TIME$/, () => ({ name: 'TIME' })],
  [/^(?:DATETIME|TIMESTAMP)$/, () => ({ name: 'TIMESTAMP' })],
  [/^BLOB$/, () => ({ name: 'BINARY' })],
  [/^JSON$/, () => ({ name: 'JSON' })],
  [/^UUID$/, () => ({ name: 'UUID' })],
];

export const sqlitePhysical: PhysicalDialect = Object.freeze({
  dwType: 'SQLITE' as const,
  dialect: 'sqlite' as const,
  maxIdentifierBytes: null,
  typeOf,
  /** Total: a name it does not know gets its SQLite affinity (https://sqlite.org/datatype3.html §3.1), in that order. */
  logicalOf(dataType: string): LogicalType {
    const text = dataType.trim().toUpperCase().replace(/\s+/g, ' ');
    for (const [re, make] of NAMED) {
      const m = re.exec(text);
      if (m) return make(m);
    }
    if (text.includes('INT')) return { name: 'BIGINT' };
    if (/CHAR|CLOB|TEXT/.test(text)) return { name: 'TEXT' };
    if (text === '' || text.includes('BLOB')) return { name: 'BINARY' };
    if (/REAL|FLOA|DOUB/.test(text)) return { name: 'DOUBLE' };
    return { name: 'DECIMAL' };
  },
  quote,
  /** SQLite keeps no comments: descriptions stay in the model. A table needs at least one column. */
  createTable(t: PhysicalTableDef): string[] {
    if (t.columns.length === 0)
      return [
        `-- ${quote(t.tb_name).replace(/[\r\n]/g, ' ')} has no columns; SQLite cannot create a table without one`,
      ];
    const cols = t.columns.map((c) => `  ${quote(c.name_en)} ${c.data_type}${c.not_null ? ' NOT NULL' : ''}`);
    const pk = t.columns.filter((c) => c.is_primary_key).map((c) => quote(c.name_en));
    if (pk.length) cols.push(`  PRIMARY KEY (${pk.join(', ')})`);
    return [`CREATE TABLE ${quote(t.tb_name)} (\n${cols.join(',\n')}\n)`];
  },
});

import type { LogicalType } from '../logical-types.ts';
import type { PhysicalDialect, PhysicalTableDef } from './types.ts';

const quote = (identifier: string) => `"${identifier.replaceAll('"', '""')}"`;
/** standard_conforming_strings is on (the default since 9.1): only the quote doubles. */
const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;

/** Logical → PostgreSQL, spelled as format_type() prints it so that reversing the created table gives it back. */
function typeOf(t: LogicalType): string {
  switch (t.name) {
    case 'STRING':
      return t.length === undefined ? 'character varying' : `character varying(${t.length})`;
    case 'TEXT':
      return 'text';
    case 'INT':
      return 'integer';
    case 'BIGINT':
      return 'bigint';
    case 'SMALLINT':
      return 'smallint';
    case 'DECIMAL':
      return t.precision === undefined ? 'numeric' : `numeric(${t.precision},${t.scale ?? 0})`;
    case 'FLOAT':
      return 'real';
    case 'DOUBLE':
      return 'double precision';
    case 'BOOLEAN':
      return 'boolean';
    case 'DATE':
      return 'date';
    case 'TIME':
      return 'time without time zone';
    case 'TIMESTAMP':
      return 'timestamp without time zone';
    case 'TIMESTAMPTZ':
      return 'timestamp with time zone';
    case 'BINARY':
      return 'bytea';
    case 'JSON':
      return 'jsonb';
    case 'UUID':
      return 'uuid';
  }
}

/** format_type() spellings and their common short forms; anything else (arrays, enums, ranges…) has no logical type. */
const REVERSE: readonly [RegExp, (m: RegExpExecArray) => LogicalType][] = [
  [
    /^(?:character varying|varchar)(?:\((\d+)\))?$/,
    (m) => (m[1] ? { name: 'STRING', length: Number(m[1]) } : { name: 'STRING' }),
  ],
  [/^(?:character|char|bpchar)(?:\((\d+)\))?$/, (m) => ({ name: 'STRING', length: Number(m[1] ?? 1) })],
  [/^text$/, () => ({ name: 'TEXT' })],
  [/^(?:integer|int|int4)$/, () => ({ name: 'INT' })],
  [/^(?:bigint|int8)$/, () => ({ name: 'BIGINT' })],
  [/^(?:smallint|int2)$/, () => ({ name: 'SMALLINT' })],
  [
    /^(?:numeric|decimal)(?:\((\d+)(?:,\s*(\d+))?\))?$/,
    (m) => (m[1] ? { name: 'DECIMAL', precision: Number(m[1]), scale: Number(m[2] ?? 0) } : { name: 'DECIMAL' }),
  ],
  [/^(?:real|float4)$/, () => ({ name: 'FLOAT' })],
  [/^(?:double precision|float8)$/, () => ({ name: 'DOUBLE' })],
  [/^(?:boolean|bool)$/, () => ({ name: 'BOOLEAN' })],
  [/^date$/, () => ({ name: 'DATE' })],
  [/^time(?:\(\d\))?(?: without time zone)?$/, () => ({ name: 'TIME' })],
  [/^timestamp(?:\(\d\))?(?: without time zone)?$/, () => ({ name: 'TIMESTAMP' })],
  [/^(?:timestamp(?:\(\d\))? with time zone|timestamptz)$/, () => ({ name: 'TIMESTAMPTZ' })],
  [/^bytea$/, () => ({ name: 'BINARY' })],
  [/^jsonb?$/, () => ({ name: 'JSON' })],
  [/^uuid$/, () => ({ name: 'UUID' })],
];

export const postgresPhysical: PhysicalDialect = Object.freeze({
  dwType: 'POSTGRESQL' as const,
  dialect: 'postgres' as const,
  maxIdentifierBytes: 63,
  typeOf,
  logicalOf(dataType: string): LogicalType | null {
    const text = dataType.trim().toLowerCase();
    for (const [re, make] of REVERSE) {
      const m = re.exec(text);
      if (m) return make(m);
    }
    return null;
  },
  quote,
  createTable(t: PhysicalTableDef): string[] {
    const cols = t.columns.map((c) => `  ${quote(c.name_en)} ${c.data_type}${c.not_null ? ' NOT NULL' : ''}`);
    const pk = t.columns.filter((c) => c.is_primary_key).map((c) => quote(c.name_en));
    if (pk.length) cols.push(`  PRIMARY KEY (${pk.join(', ')})`);
    const out = [`CREATE TABLE ${quote(t.tb_name)} (\n${cols.join(',\n')}\n)`];
    if (t.description) out.push(`COMMENT ON TABLE ${quote(t.tb_name)} IS ${literal(t.description)}`);
    for (const c of t.columns) {
      if (c.description)
        out.push(`COMMENT ON COLUMN ${quote(t.tb_name)}.${quote(c.name_en)} IS ${literal(c.description)}`);
    }
    return out;
  },
});

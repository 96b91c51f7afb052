/**
 * Logical data types: what a logical entity's attributes are written in, and the common ground every physical
 * dialect maps to and from (docs/dataarts.md, Type mapping). Written `NAME`, `NAME(length)` or `NAME(precision,scale)`.
 */
export const LOGICAL_TYPES = Object.freeze([
  'STRING',
  'TEXT',
  'INT',
  'BIGINT',
  'SMALLINT',
  'DECIMAL',
  'FLOAT',
  'DOUBLE',
  'BOOLEAN',
  'DATE',
  'TIME',
  'TIMESTAMP',
  'TIMESTAMPTZ',
  'BINARY',
  'JSON',
  'UUID',
] as const);
export type LogicalName = (typeof LOGICAL_TYPES)[number];

export interface LogicalType {
  name: LogicalName;
  /** STRING's length. */
  length?: number;
  /** DECIMAL's precision and scale. */
  precision?: number;
  scale?: number;
}

/** Other spellings users write for the same logical type. */
const ALIASES: Readonly<Record<string, LogicalName>> = Object.freeze({
  VARCHAR: 'STRING',
  CHAR: 'STRING',
  INTEGER: 'INT',
  LONG: 'BIGINT',
  TINYINT: 'SMALLINT',
  NUMERIC: 'DECIMAL',
  REAL: 'FLOAT',
  BOOL: 'BOOLEAN',
  DATETIME: 'TIMESTAMP',
  BLOB: 'BINARY',
  BYTES: 'BINARY',
  JSONB: 'JSON',
});

const SHAPE = /^\s*([A-Za-z]+)\s*(?:\(\s*(\d{1,5})\s*(?:,\s*(\d{1,5})\s*)?\))?\s*$/;

/** `STRING(64)`, `decimal(10, 2)`, `varchar` … as a LogicalType, or null when it is none of them. */
export function parseLogicalType(text: string): LogicalType | null {
  const m = SHAPE.exec(text);
  if (!m) return null;
  const upper = m[1]!.toUpperCase();
  const name = (LOGICAL_TYPES as readonly string[]).includes(upper) ? (upper as LogicalName) : ALIASES[upper];
  if (!name) return null;
  const a = m[2] === undefined ? undefined : Number(m[2]);
  const b = m[3] === undefined ? undefined : Number(m[3]);
  if (name === 'STRING') {
    if (b !== undefined || a === 0) return null;
    return a === undefined ? { name } : { name, length: a };
  }
  if (name === 'DECIMAL') {
    if (a === undefined) return { name };
    if (a < 1 || a > 1000 || (b ?? 0) > a) return null;
    return { name, precision: a, scale: b ?? 0 };
  }
  return a === undefined ? { name } : null;
}

export function formatLogicalType(t: LogicalType): string {
  if (t.name === 'STRING' && t.length !== undefined) return `STRING(${t.length})`;
  if (t.name === 'DECIMAL' && t.precision !== undefined) return `DECIMAL(${t.precision},${t.scale ?? 0})`;
  return t.name;
}

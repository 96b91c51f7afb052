import { fail } from '../../../errors.ts';
import type { Dialect } from '../../../db/capabilities.ts';
import { postgresSource } from './postgres.ts';
import { sqliteSource } from './sqlite.ts';
import type { SourceDialect } from './types.ts';

/** Every source dialect, asked in this order: URL schemes first, the plain file path (SQLite) last. */
export const SOURCE_DIALECTS: readonly SourceDialect[] = Object.freeze([postgresSource, sqliteSource]);

const BY_DIALECT: ReadonlyMap<Dialect, SourceDialect> = new Map(SOURCE_DIALECTS.map((d) => [d.dialect, d]));

/** The dialect of a connection URL, with the URL to open and its display form; VALIDATION_FAILED if none reads it. */
export function parseSourceUrl(raw: string): { source: SourceDialect; url: string; display: string } {
  const url = raw.trim();
  for (const source of SOURCE_DIALECTS) {
    const parsed = source.parse(url);
    if (parsed) return { source, ...parsed };
  }
  // Not echoed: whatever it is may hold a password.
  fail('VALIDATION_FAILED', '`url` must be a postgres:// URL or an SQLite database file path.');
}

export function sourceDialect(dialect: string): SourceDialect {
  const d = BY_DIALECT.get(dialect as Dialect);
  if (!d) fail('INTERNAL', `No source dialect ${dialect}.`);
  return d;
}

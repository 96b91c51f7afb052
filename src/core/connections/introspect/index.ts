import { fail } from '../../../errors.ts';
import type { Dialect } from '../../../db/capabilities.ts';
import { postgresSource } from './postgres.ts';
import { sqliteSource } from './sqlite.ts';
import type { SourceDialect, SourceTarget } from './types.ts';

/** Every source dialect, asked in this order: URL schemes first, the plain file path (SQLite) last. */
export const SOURCE_DIALECTS: readonly SourceDialect[] = Object.freeze([postgresSource, sqliteSource]);

const BY_DIALECT: ReadonlyMap<Dialect, SourceDialect> = new Map(SOURCE_DIALECTS.map((d) => [d.dialect, d]));

/** The dialect of a connection URL and its target; VALIDATION_FAILED if no dialect reads it. */
export function parseSourceUrl(raw: string): { source: SourceDialect; target: SourceTarget } {
  for (const source of SOURCE_DIALECTS) {
    const target = source.parse(raw);
    if (target) return { source, target };
  }
  // Not echoed: whatever it is may hold a password.
  fail('VALIDATION_FAILED', '`url` must be a postgres:// URL or an SQLite database file path.');
}

export function sourceDialect(dialect: string): SourceDialect {
  const d = BY_DIALECT.get(dialect as Dialect);
  if (!d) fail('INTERNAL', `No source dialect ${dialect}.`);
  return d;
}

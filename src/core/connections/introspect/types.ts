import type { SourcePlace } from '../source-policy.ts';
import type { Dialect } from '../../../db/capabilities.ts';

/** A column as the source database describes it. `data_type` is the database's own spelling. */
export interface SourceColumn {
  name: string;
  data_type: string;
  not_null: boolean;
  is_primary_key: boolean;
  /** 1-based position in the table. */
  ordinal: number;
  /** The column comment, where the database has comments (PostgreSQL); else null. */
  description: string | null;
}

export interface SourceTable {
  name: string;
  description: string | null;
  columns: SourceColumn[];
}

/** An open, read-only view of a source database's catalog. Every failure is a SourceError. */
export interface SourceDb {
  /** Every table's name, in code-point order (the order a reverse numbers its items in). */
  listTables(): Promise<string[]>;
  /** The named tables that exist, each with its columns in position order; absent names are not in the map. */
  readTables(names: readonly string[]): Promise<Map<string, SourceTable>>;
  close(): Promise<void>;
}

/** A connection URL read by its dialect: where it connects, how it is shown, and how to open it. */
export interface SourceTarget {
  /** Where the driver will connect (source-policy.ts decides whether it may). */
  readonly place: SourcePlace;
  /** The target as shown and stored in clear: never the password. */
  readonly display: string;
  /** Opens this very target (the driver is configured from it, not from the URL string). */
  open(schema: string | null): Promise<SourceDb>;
}

/**
 * One module per source dialect behind this interface (src/core/connections/introspect/*.ts), chosen once from
 * the URL: nothing else branches on which database a connection is.
 */
export interface SourceDialect {
  readonly dialect: Dialect;
  /** The schema read when a connection names none (null: the dialect has no schemas to choose). */
  readonly defaultSchema: string | null;
  /** This dialect's reading of a connection URL, or null when the URL is not one of its kind (VALIDATION_FAILED when it is, but malformed). */
  parse(raw: string): SourceTarget | null;
}

/**
 * A source database that could not be reached or read. The message is ours, built from the driver's code and
 * message with the URL and password removed, so it can be answered and logged.
 */
export class SourceError extends Error {
  override readonly name = 'SourceError';
}

/** Runs a driver call, turning whatever it throws into a SourceError whose text holds none of `secrets`. */
export async function asSourceError<T>(what: string, secrets: readonly string[], fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof SourceError) throw e;
    const err = e as { code?: unknown; message?: unknown };
    let text = typeof err?.message === 'string' ? err.message : String(e);
    for (const s of secrets) if (s) text = text.split(s).join('****');
    const code = typeof err?.code === 'string' ? ` [${err.code}]` : '';
    throw new SourceError(`${what}: ${text.slice(0, 500)}${code}`);
  }
}

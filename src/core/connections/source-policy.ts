import { isAbsolute, resolve, sep } from 'node:path';
import { fail } from '../../errors.ts';

/**
 * Which source databases a data connection may name (BATCHGATE_CONNECTION_SOURCES). Any user may create a
 * workspace and so register connections in it; without a list, a connection may name any SQLite file the server
 * can read or any PostgreSQL server it can reach (only schemas are read, never rows). A list closes that:
 *
 *   /srv/exports            an SQLite file under this directory
 *   db.internal             a PostgreSQL server by host name (any port), or db.internal:6543 (that port only)
 *   *.analytics.internal    any host under this domain
 *
 * Checked when a connection is registered and again whenever a stored one is opened, so narrowing the list takes
 * effect on connections registered before.
 */
export type SourcePlace = { kind: 'file'; path: string } | { kind: 'host'; host: string; port: number };

export function sourceAllowed(allowed: readonly string[] | null, place: SourcePlace): boolean {
  if (allowed === null) return true;
  return allowed.some((entry) => {
    if (isAbsolute(entry)) {
      const dir = resolve(entry);
      return place.kind === 'file' && (place.path === dir || place.path.startsWith(dir.endsWith(sep) ? dir : dir + sep));
    }
    if (place.kind !== 'host') return false;
    const m = /^(.*?)(?::(\d+))?$/.exec(entry.toLowerCase())!;
    const [pattern, port] = [m[1]!, m[2]];
    if (port !== undefined && Number(port) !== place.port) return false;
    const host = place.host.toLowerCase();
    return pattern.startsWith('*.') ? host.endsWith(pattern.slice(1)) : host === pattern;
  });
}

export function requireSourceAllowed(allowed: readonly string[] | null, place: SourcePlace): void {
  if (!sourceAllowed(allowed, place)) {
    // The place, never the URL: it may carry a password.
    const where = place.kind === 'file' ? `the file ${place.path}` : `the server ${place.host}:${place.port}`;
    fail('CONNECTION_NOT_ALLOWED', `BATCHGATE_CONNECTION_SOURCES does not list ${where}.`);
  }
}

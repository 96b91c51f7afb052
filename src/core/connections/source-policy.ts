import { realpathSync, statSync } from 'node:fs';
import { isAbsolute, resolve, sep } from 'node:path';
import ipaddr from 'ipaddr.js';
import type { DbLocation } from '../../db/open-db.ts';
import { fail } from '../../errors.ts';

/**
 * Which source databases a data connection may name (BATCHGATE_CONNECTION_SOURCES). Any user may create a
 * workspace and so register connections in it, so nothing is allowed until the operator lists it:
 *
 *   /srv/exports            an SQLite file under this directory (symlinks resolved first), or a PostgreSQL
 *                           unix socket in it
 *   db.internal             a PostgreSQL server by host name (any port), or db.internal:6543 (that port only)
 *   *.analytics.internal    any host under this domain
 *
 * Checked against the target the driver is given (introspect/*.ts parse the URL into it) when a connection is
 * registered and again whenever a stored one is opened, so narrowing the list takes effect on connections
 * registered before. The service's own database is refused whatever the list says.
 */
export type SourcePlace =
  | { kind: 'file'; path: string }
  | { kind: 'host'; host: string; port: number; database: string }
  | { kind: 'socket'; dir: string; port: number; database: string };

/** A path with its symlinks resolved; as given (absolute) when it does not exist, which opening will then report. */
export function realPath(path: string): string {
  try {
    return realpathSync.native(path);
  } catch {
    return resolve(path);
  }
}

const within = (path: string, dir: string) => path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);

/** An IP address in one spelling (IPv4-mapped IPv6 as IPv4), a name lower-cased. */
function canonicalHost(host: string): string {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return ipaddr.isValid(h) ? ipaddr.process(h).toString() : h;
}

export function sourceAllowed(allowed: readonly string[] | null, place: SourcePlace): boolean {
  if (allowed === null) return false;
  return allowed.some((entry) => {
    if (isAbsolute(entry)) {
      if (place.kind === 'host') return false;
      return within(place.kind === 'file' ? place.path : place.dir, realPath(entry));
    }
    if (place.kind !== 'host') return false;
    // [v6]:port, a bare IPv6 address, or host[:port].
    const m =
      /^\[([^\]]+)\](?::(\d+))?$/.exec(entry) ??
      (entry.split(':').length > 2 ? [entry, entry, undefined] : /^(.*?)(?::(\d+))?$/.exec(entry))!;
    const [pattern, port] = [m[1]!.toLowerCase(), m[2]];
    if (port !== undefined && Number(port) !== place.port) return false;
    const host = canonicalHost(place.host);
    return pattern.startsWith('*.') ? host.endsWith(pattern.slice(1)) : host === canonicalHost(pattern);
  });
}

/** Loopback in any spelling is one host: localhost, 127.0.0.0/8, ::1. */
function sameHost(a: string, b: string): boolean {
  const loopback = (h: string) => {
    const c = canonicalHost(h);
    return c === 'localhost' || (ipaddr.isValid(c) && ipaddr.parse(c).range() === 'loopback');
  };
  return canonicalHost(a) === canonicalHost(b) || (loopback(a) && loopback(b));
}

function sameFile(a: string, b: string): boolean {
  try {
    const [x, y] = [statSync(a), statSync(b)];
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

/**
 * Whether `place` (with `schema`, on PostgreSQL) is the service's own database: its SQLite file (and the -wal,
 * -shm and -journal files beside it, by resolved path or as the same file under another name), or its PostgreSQL
 * server, database and schema. Host names are compared as written, loopback spellings as one: a name that
 * resolves to the service's server is the operator's to keep off the list.
 */
export function isOwnDatabase(own: DbLocation, place: SourcePlace, schema: string | null): boolean {
  if (own.kind === 'sqlite') {
    if (own.path === null || place.kind !== 'file') return false;
    const mine = realPath(own.path);
    return (
      ['', '-wal', '-shm', '-journal'].some((suffix) => place.path === mine + suffix) || sameFile(place.path, mine)
    );
  }
  if (
    place.kind === 'file' ||
    place.port !== own.port ||
    place.database !== own.database ||
    (schema ?? 'public') !== own.schema
  )
    return false;
  const ownIsSocket = own.host.startsWith('/');
  if (place.kind === 'socket') return ownIsSocket && realPath(own.host) === place.dir;
  return !ownIsSocket && sameHost(place.host, own.host);
}

/** CONNECTION_NOT_ALLOWED when BATCHGATE_CONNECTION_SOURCES is unset: data connections are closed by default. */
export function requireSourcesListed(ctx: { settings: { connectionSources: readonly string[] | null } }): void {
  if (ctx.settings.connectionSources === null) {
    fail(
      'CONNECTION_NOT_ALLOWED',
      'Data connections are off: BATCHGATE_CONNECTION_SOURCES is not set. The operator lists there the directories and PostgreSQL hosts connections may name.',
    );
  }
}

/** CONNECTION_NOT_ALLOWED unless the list names `place` and it is not the service's own database. */
export function requireSourceAllowed(
  allowed: readonly string[] | null,
  own: DbLocation,
  place: SourcePlace,
  schema: string | null,
): void {
  requireSourcesListed({ settings: { connectionSources: allowed } });
  // The place, never the URL: it may carry a password.
  const where =
    place.kind === 'file'
      ? `the file ${place.path}`
      : place.kind === 'socket'
        ? `the socket directory ${place.dir}`
        : `the server ${place.host}:${place.port}`;
  if (!sourceAllowed(allowed, place))
    fail('CONNECTION_NOT_ALLOWED', `BATCHGATE_CONNECTION_SOURCES does not list ${where}.`);
  if (isOwnDatabase(own, place, schema))
    fail('CONNECTION_NOT_ALLOWED', `A data connection may not name this service's own database (${where}).`);
}

import { isIPv4, isIPv6 } from 'node:net';
import { posix } from 'node:path';
import ipaddr from 'ipaddr.js';
import { fail } from '../../../errors.ts';

/** The `sslmode` values accepted, as libpq spells them (`prefer` and `allow` fall back to plain text silently). */
export const SSL_MODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

/**
 * Where a data connection's PostgreSQL URL connects, read once: the allow-list is checked against this and the
 * driver is configured from it, never from the URL string. pg would otherwise take `?host=`/`?port=` over the
 * URL's own host, read `?sslrootcert=`/`sslkey`/`sslcert` files from the server's disk synchronously, and fill
 * what the URL leaves out from the server's PG* variables and ~/.pgpass.
 */
export interface PostgresTarget {
  /** A host name or IP address (IPv6 without brackets), or the directory of a unix socket (starts with /). */
  host: string;
  port: number;
  database: string;
  user: string;
  password: string | null;
  sslmode: SslMode | null;
}

const SHAPE = 'postgres://user:password@host:port/database?sslmode=require';
const bad = (why: string): never =>
  fail(
    'VALIDATION_FAILED',
    `The PostgreSQL URL ${why} (expected ${SHAPE}; the only query parameter accepted is sslmode: ${SSL_MODES.join(', ')}).`,
  );

function decoded(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return bad(`has a badly percent-encoded ${what}`);
  }
}

const LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;
const NUMERIC_LABEL = /^(0x[0-9a-f]*|[0-9]+)$/;

/** A host as pg is given it: a canonical IP address, a DNS name, or a socket directory; anything else is refused. */
function hostOf(hostname: string): string {
  if (hostname.startsWith('[')) {
    const v6 = hostname.slice(1, -1);
    // Zone ids (%eth0) and other oddities are no server name.
    if (!isIPv6(v6)) bad('has an IPv6 host that is not an address');
    return ipaddr.parse(v6).toString();
  }
  const host = decoded(hostname, 'host');
  if (host.startsWith('/')) {
    // A unix socket directory: `%2Fvar%2Frun%2Fpostgresql`. Only a plain absolute path, checked like any place.
    if (host.includes('\0') || posix.normalize(host) !== host || (host.length > 1 && host.endsWith('/')))
      bad('has a socket directory that is not a plain absolute path');
    return host;
  }
  const name = host.toLowerCase().replace(/\.$/, '');
  const labels = name.split('.');
  if (name.length === 0 || name.length > 253 || !labels.every((l) => LABEL.test(l)))
    bad('has a host that is not one server name or address');
  // 127.1, 0x7f.0.0.1 and 2130706433 all reach 127.0.0.1 through the resolver: only the dotted-quad form is taken.
  if (NUMERIC_LABEL.test(labels[labels.length - 1]!) && !isIPv4(name))
    bad('has a numeric host that is not a dotted-quad IPv4 address');
  return isIPv4(name) ? ipaddr.parse(name).toString() : name;
}

/** A `postgres://` or `postgresql://` URL read into its target; null when the URL is not of that kind. */
export function parsePostgresUrl(raw: string): PostgresTarget | null {
  if (!/^postgres(ql)?:\/\//i.test(raw)) return null;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return bad('is not valid');
  }
  for (const key of new Set(u.searchParams.keys())) {
    if (key !== 'sslmode') bad(`has the query parameter ${JSON.stringify(key.slice(0, 40))}, which is not accepted`);
  }
  const modes = u.searchParams.getAll('sslmode');
  if (modes.length > 1) bad('has sslmode more than once');
  const sslmode = modes.length ? modes[0]! : null;
  if (sslmode !== null && !(SSL_MODES as readonly string[]).includes(sslmode))
    bad(`has an sslmode that is not accepted`);
  if (u.hash) bad('has a #fragment');
  if (!u.hostname) bad('has no host');
  const host = hostOf(u.hostname);
  const port = u.port ? Number(u.port) : 5432;
  if (port < 1) bad('has port 0');
  const user = decoded(u.username, 'user');
  if (!user) bad('has no user');
  const password = u.password ? decoded(u.password, 'password') : null;
  const path = u.pathname.replace(/^\//, '');
  if (path.includes('/')) bad('has a path of more than a database name');
  // libpq's default: the database named like the user.
  const database = path ? decoded(path, 'database') : user;
  if ([user, database, password ?? ''].some((s) => s.includes('\0'))) bad('has a NUL character');
  return { host, port, database, user, password, sslmode: sslmode as SslMode | null };
}

/** The target as shown and stored next to the secret: everything but the password, which shows as ****. */
export function displayPostgresTarget(t: PostgresTarget): string {
  const host = t.host.startsWith('/') ? encodeURIComponent(t.host) : isIPv6(t.host) ? `[${t.host}]` : t.host;
  const user = encodeURIComponent(t.user) + (t.password !== null ? ':****' : '');
  return `postgres://${user}@${host}:${t.port}/${encodeURIComponent(t.database)}${t.sslmode ? `?sslmode=${t.sslmode}` : ''}`;
}

import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Every place a secret can sit in a logged object. Fastify's own request serializer logs no headers, so these
 * guard what a future `log.debug({ req: req.raw })`, `{ headers }`, `{ config }` or a logged token-issue
 * response would otherwise print.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-auth-token"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers["x-auth-token"]',
  'headers.cookie',
  'authorization',
  'token',
  '*.token',
  'password',
  '*.password',
  'adminToken',
  '*.adminToken',
  'metricsToken',
  '*.metricsToken',
  'databaseUrl',
  '*.databaseUrl',
  'connectionString',
  '*.connectionString',
];

export const REDACTED = '[REDACTED]';

/** batchgate's own tokens (src/core/tokens.ts): `bg_` and 32 random bytes in base64url. */
const TOKEN_PATTERN = /bg_[A-Za-z0-9_-]{43}/g;

/** Secrets shorter than this are not scrubbed by value: replacing every "pw" in every line would garble the logs. */
const MIN_SCRUBBED_LENGTH = 6;

/** `postgres://user:secret@host/db` → `postgres://user:[REDACTED]@host/db`; anything else as it is. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@]*@/i, `$1${REDACTED}@`);
}

/** The password of a `postgres://` URL (decoded), or null. */
export function urlPassword(url: string): string | null {
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^:/@]*:([^@]*)@/i.exec(url);
  if (!m || !m[1]) return null;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return m[1];
  }
}

/** The values in the service's configuration that no log line may show. */
export function configSecrets(config: {
  adminToken: string | null;
  metricsToken: string | null;
  databaseUrl: string;
}): (string | null)[] {
  return [config.adminToken, config.metricsToken, urlPassword(config.databaseUrl)];
}

export interface LoggerOptions {
  level: string;
  /** Values never to print (the admin token, the metrics token, the database password), whatever object holds them. */
  secrets?: readonly (string | null | undefined)[];
  /** Where lines go; stdout by default. Tests pass a stream to read them back. */
  destination?: DestinationStream;
}

/**
 * The service's logger: JSON lines, redaction of the paths above, and a last scrub of each finished line for the
 * configured secrets and anything shaped like a batchgate token. The scrub is the backstop for a secret logged
 * where no path foresaw it (inside an error message, say); the redaction paths are the rule.
 */
export function makeLogger(opts: LoggerOptions): Logger {
  const secrets = [
    ...new Set(
      (opts.secrets ?? []).filter((s): s is string => typeof s === 'string' && s.length >= MIN_SCRUBBED_LENGTH),
    ),
  ];
  // A secret with a quote or backslash appears JSON-escaped in the line.
  const forms = [...new Set(secrets.flatMap((s) => [s, JSON.stringify(s).slice(1, -1), encodeURIComponent(s)]))].sort(
    (a, b) => b.length - a.length,
  );
  const scrub = (line: string): string => {
    let out = line.replace(TOKEN_PATTERN, `bg_${REDACTED}`);
    for (const f of forms) if (out.includes(f)) out = out.split(f).join(REDACTED);
    return out;
  };
  const options: pino.LoggerOptions = {
    level: opts.level,
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    hooks: { streamWrite: scrub },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

/**
 * The HTTP request a piece of work runs for, handed to the engine explicitly (not on the caller's identity, not in
 * an AsyncLocalStorage, which turns on promise hooks for every promise in the process): its id tags the lines
 * logged for it.
 */
export interface RequestContext {
  readonly requestId?: string;
}

/** Work no HTTP request asked for (a script, a test). */
export const NO_REQUEST: RequestContext = Object.freeze({});

/**
 * `ctx` with its log lines tagged by the HTTP request they run for, or `ctx` itself outside a request. The one way
 * engine lines get a request id: where a request's work starts (a submit, a control, an inline run), not in each
 * line.
 */
export function forRequest<C extends { log: Logger }>(ctx: C, request: RequestContext): C {
  const { requestId } = request;
  return requestId === undefined ? ctx : { ...ctx, log: ctx.log.child({ request_id: requestId }) };
}

import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { WebhookSettings } from '../../core/context.ts';
import { addressRefusal, urlRefusal } from '../../core/webhooks/url-policy.ts';

export interface SendResult {
  /** The HTTP status, or null when no response came (refused, unreachable, timed out). */
  status: number | null;
  error: string | null;
  /** The start of the response body, for the delivery log. */
  snippet: string | null;
  durationMs: number;
}

/** Enough of a receiver's answer to see what it said; the rest is not read. */
const SNIPPET_BYTES = 1024;

/**
 * Resolves like dns.lookup but drops non-public addresses (unless allowed), so the socket can only connect to an
 * address the policy accepts, whatever the name resolved to when the webhook was saved (DNS rebinding).
 */
function guardedLookup(settings: WebhookSettings): LookupFunction {
  return ((
    hostname: string,
    options: { all?: boolean },
    callback: (err: Error | null, address: string | LookupAddress[], family?: number) => void,
  ) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const allowed = addresses.filter((a) => addressRefusal(settings, a.address) === null);
      if (allowed.length === 0) {
        return callback(
          new Error(
            `refused: ${hostname} resolves to ${addresses.map((a) => a.address).join(', ')}, not a public address`,
          ),
          '',
          0,
        );
      }
      if (options.all) return callback(null, allowed);
      return callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  }) as LookupFunction;
}

function describe(e: Error & { code?: string }): string {
  return e.code && !e.message.includes(e.code) ? `${e.code}: ${e.message}` : e.message;
}

/**
 * POSTs one webhook body. Never throws: every way it can go wrong is a result for the delivery log. Redirects are
 * not followed (a 3xx is a failure), no connection is pooled, and `timeoutMs` bounds everything from the DNS
 * lookup to the last byte read.
 */
export function postWebhook(
  rawUrl: string,
  body: string,
  headers: Record<string, string>,
  opts: { timeoutMs: number; settings: WebhookSettings },
): Promise<SendResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const url = new URL(rawUrl);
  const refusal = urlRefusal(opts.settings, url);
  if (refusal)
    return Promise.resolve({ status: null, error: `refused: ${refusal}`, snippet: null, durationMs: elapsed() });

  return new Promise((resolve) => {
    let settled = false;
    let status: number | null = null;
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      // NUL cannot be stored in PostgreSQL text.
      const snippet = size
        ? Buffer.concat(chunks).subarray(0, SNIPPET_BYTES).toString('utf8').replace(/\0/g, '\uFFFD')
        : null;
      resolve({ status, error, snippet, durationMs: elapsed() });
    };
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(
      url,
      {
        method: 'POST',
        agent: false,
        lookup: guardedLookup(opts.settings),
        headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
      },
      (res) => {
        status = res.statusCode ?? null;
        res.on('data', (c: Buffer) => {
          chunks.push(c);
          size += c.length;
          if (size >= SNIPPET_BYTES) finish(null);
        });
        res.on('end', () => finish(null));
        res.on('error', (e) => finish(describe(e)));
      },
    );
    req.on('error', (e) => finish(describe(e)));
    const timer = setTimeout(() => finish(`timed out after ${opts.timeoutMs} ms`), opts.timeoutMs);
    req.end(body);
  });
}

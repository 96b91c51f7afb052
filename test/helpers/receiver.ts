/**
 * A real HTTP webhook receiver on 127.0.0.1 (node:http) for the webhook tests: records every request and answers
 * as the test says (a status, a body, a delay). verifySignature is the check docs/api.md tells receivers to make.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  json: any;
  at: number;
}

export interface Answer {
  status: number;
  body?: string;
  /** Wait this long before answering (a slow or hung receiver). */
  delayMs?: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** How to answer a request; `n` counts requests from 0. Defaults to 200 "ok". */
  answer: (r: Received, n: number) => Answer;
  /** Distinct event ids received so far. */
  eventIds(): Set<string>;
  /** Resolves once `pred` holds of what was received; fails after `ms`. */
  waitFor(pred: (received: Received[]) => boolean, ms?: number, what?: string): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(
  answer: Receiver['answer'] = () => ({ status: 200, body: 'ok' }),
): Promise<Receiver> {
  const received: Received[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const r: Receiver = {
    url: '',
    received,
    answer,
    eventIds: () => new Set(received.map((x) => String(x.headers['batchgate-event-id']))),
    async waitFor(pred, ms = 30_000, what = 'deliveries') {
      const deadline = Date.now() + ms;
      while (!pred(received)) {
        if (Date.now() > deadline)
          throw new Error(
            `timed out waiting for ${what}; received ${received.length}: ${received.map((x) => x.json?.type).join(', ')}`,
          );
        await new Promise((res) => setTimeout(res, 20));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown = null;
      try {
        json = JSON.parse(body);
      } catch {
        /* keep null */
      }
      const rec: Received = { headers: req.headers, body, json, at: Date.now() };
      const n = received.length;
      received.push(rec);
      const a = r.answer(rec, n);
      const send = () => {
        if (!res.destroyed) res.writeHead(a.status, { 'content-type': 'text/plain' }).end(a.body ?? '');
      };
      if (a.delayMs) {
        const t = setTimeout(() => {
          timers.delete(t);
          send();
        }, a.delayMs);
        timers.add(t);
      } else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return r;
}

/**
 * The receiver check of docs/api.md (Webhooks): `t=<unix s>,v1=<hex>`; v1 must be HMAC-SHA256(secret, `${t}.${raw body}`), compared in
 * constant time, and t within `toleranceS` of now (replays of an old delivery are refused).
 */
export function verifySignature(
  secret: string,
  header: string | string[] | undefined,
  body: string,
  toleranceS = 300,
): boolean {
  if (typeof header !== 'string') return false;
  const parts = new Map(header.split(',').map((p) => p.split('=', 2) as [string, string]));
  const t = parts.get('t');
  const v1 = parts.get('v1');
  if (!t || !v1 || !/^\d+$/.test(t)) return false;
  if (Math.abs(Date.now() / 1000 - Number(t)) > toleranceS) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  const given = Buffer.from(v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

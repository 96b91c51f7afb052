/**
 * One autocannon run against one route, summarised: req/s over the whole run, p50/p99 latency, and every way a
 * request can fail (socket errors, timeouts, non-2xx, resets) counted as an error, with the first few bodies.
 */
import autocannon, { type Request } from 'autocannon';

export interface RouteSpec {
  route: string;
  url: string;
  connections: number;
  duration: number;
  /** Seconds. */
  timeout?: number;
  request: Request;
  /** Each 2xx body, e.g. to keep the ids of the batches submitted. */
  onOk?: (body: string) => void;
}

export interface RouteResult {
  route: string;
  connections: number;
  requests: number;
  reqPerSec: number;
  p50: number;
  p99: number;
  errors: number;
  /** What the errors were: status counts, socket error messages, first bodies. */
  errorDetail: string[];
}

const KEEP = 3;

export async function runRoute(spec: RouteSpec): Promise<RouteResult> {
  const detail: string[] = [];
  const request: Request = {
    ...spec.request,
    onResponse: (status, body) => {
      if (status >= 200 && status < 300) spec.onOk?.(body);
      else if (detail.length < KEEP) detail.push(`${status} ${body.slice(0, 200)}`);
    },
  };
  const inst = autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: spec.duration,
    timeout: spec.timeout ?? 10,
    requests: [request],
  });
  const socketErrors = new Map<string, number>();
  inst.on('reqError', (e) => socketErrors.set(e.message, (socketErrors.get(e.message) ?? 0) + 1));
  const r = await inst;
  for (const [msg, n] of socketErrors) detail.push(`${n} × ${msg}`);
  const statuses = Object.entries(r.statusCodeStats).filter(([s]) => !s.startsWith('2'));
  if (statuses.length) detail.unshift(`status ${statuses.map(([s, c]) => `${s}×${c.count}`).join(' ')}`);
  return {
    route: spec.route,
    connections: spec.connections,
    requests: r.requests.total,
    reqPerSec: r.requests.total / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    // `errors` already counts timeouts.
    errors: r.errors + r.non2xx + r.mismatches + r.resets,
    errorDetail: detail,
  };
}

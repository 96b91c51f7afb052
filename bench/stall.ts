/**
 * No request stalls the service, one dialect per process:
 * `node --import tsx bench/stall.ts '{"dialect":"sqlite"}'` (npm run bench runs it unless --no-stall).
 * Prints a human summary on stderr, then one JSON line.
 *
 * `batchgate serve` as deployed (default BATCHGATE_QUERY_TIMEOUT_MS). One tenant's items hold 64 KiB of text;
 * the attacker keeps 10 worst-case searches in flight (the longest substring patterns the budgets allow, which
 * nearly match at every offset), sending the next as each answers. Another tenant reads one of its items
 * (GET item) in a loop: its p99 with the attacker running, against its p99 on the same route with no attacker
 * in the same run. Each phase sends GETs one after another for PHASE_MS (several searches time out within it);
 * a GET that is not answered within CAP_MS counts as CAP_MS.
 */
import { MAX_PATTERN_BYTES, MAX_TOTAL_PATTERN_BYTES } from '../src/core/conditions.ts';
import { startService } from './load/service.ts';

const args = JSON.parse(process.argv[2] ?? '{}') as { dialect: 'sqlite' | 'postgres'; pgUrl?: string; items?: number };
const ITEMS = args.items ?? 100;
const ATTACKERS = 10;
const PHASE_MS = 15_000;
const log = (s: string) => process.stderr.write(`  ${args.dialect.padEnd(8)} ${s}\n`);

/** A GET stuck behind a stalled event loop counts as this long, so one phase cannot last for minutes. */
const CAP_MS = 60_000;

async function call(
  base: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const res = await fetch(base + path, {
    method,
    signal: AbortSignal.timeout(CAP_MS),
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

function p99(samples: number[]): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * 0.99) - 1)]!;
}

async function main() {
  const svc = await startService(args.dialect, { pgUrl: args.pgUrl, logLevel: 'warn' });
  try {
    const root = (m: string, p: string, b?: unknown) => call(svc.url, svc.adminToken, m, p, b);
    const tenant = async (name: string) => {
      const u = await root('POST', '/api/v1/users', { name });
      const token = (await root('POST', `/api/v1/users/${u.body.id}/tokens`, {})).body.token as string;
      const api = (m: string, p: string, b?: unknown) => call(svc.url, token, m, p, b);
      const ws = `/api/v1/workspaces/${(await api('POST', '/api/v1/workspaces', { name })).body.id}`;
      const ds = await api('POST', `${ws}/datastores`, {
        name: 'docs',
        display_id: 'docs',
        fields: [{ display_id: 'body', name: 'Body', type: 'text' }],
        statuses: [{ display_id: 'open', name: 'Open' }],
        actions: [],
      });
      if (ds.status !== 201) throw new Error(`datastore: ${JSON.stringify(ds.body)}`);
      return { api, ws };
    };
    const attacker = await tenant('attacker');
    const victim = await tenant('victim');
    const big = 'a'.repeat(65_535);
    for (let i = 0; i < ITEMS; i += 50) {
      const r = await attacker.api('POST', `${attacker.ws}/datastores/docs/items`, {
        items: Array.from({ length: Math.min(50, ITEMS - i) }, () => ({ fields: { body: big } })),
      });
      if (r.status !== 201) throw new Error(`import: ${r.status}`);
    }
    const item = (
      await victim.api('POST', `${victim.ws}/datastores/docs/items`, { title: 'mine', fields: { body: 'hello' } })
    ).body.id as string;
    const patterns = Array.from(
      { length: Math.floor(MAX_TOTAL_PATTERN_BYTES / MAX_PATTERN_BYTES) },
      (_, i) => `${'a'.repeat(MAX_PATTERN_BYTES - 2)}${String.fromCharCode(98 + i)}!`,
    );
    const worst = { conditions: [{ id: 'body', search_value: patterns }] };

    const getPhase = async (): Promise<number[]> => {
      const ms: number[] = [];
      const end = Date.now() + PHASE_MS;
      while (Date.now() < end) {
        const t = performance.now();
        const r = await victim.api('GET', `${victim.ws}/items/${item}`).catch(() => null);
        ms.push(r ? performance.now() - t : CAP_MS);
        if (r && r.status !== 200) throw new Error(`GET item: ${r.status}`);
      }
      return ms;
    };

    const quiet = await getPhase();
    let stop = false;
    const codes = new Map<string, number>();
    const searchMs: number[] = [];
    const loop = async () => {
      while (!stop) {
        const t = performance.now();
        const r = await attacker.api('POST', `${attacker.ws}/datastores/docs/items/search`, worst).catch(() => null);
        if (stop || !r) return;
        searchMs.push(performance.now() - t);
        const k = `${r.status}${r.body?.error?.code ? ` ${r.body.error.code}` : ''}`;
        codes.set(k, (codes.get(k) ?? 0) + 1);
      }
    };
    const attackers = Array.from({ length: ATTACKERS }, loop);
    // Let the searches reach the database first.
    await new Promise((r) => setTimeout(r, 500));
    const attacked = await getPhase();
    // Searches still running are not waited for: the service is stopped under them (an unbounded one could run
    // for minutes).
    stop = true;
    void attackers;

    const result = {
      dialect: args.dialect,
      items: ITEMS,
      quietP99Ms: Math.round(p99(quiet) * 10) / 10,
      quietN: quiet.length,
      attackedP99Ms: Math.round(p99(attacked) * 10) / 10,
      attackedN: attacked.length,
      ratio: Math.round((p99(attacked) / p99(quiet)) * 10) / 10,
      searches: Object.fromEntries(codes),
      searchP50Ms: Math.round([...searchMs].sort((a, b) => a - b)[Math.floor(searchMs.length / 2)] ?? 0),
    };
    log(
      `GET item p99 ${result.quietP99Ms} ms alone (${result.quietN}), ${result.attackedP99Ms} ms beside ${ATTACKERS} worst-case searches (${result.attackedN}); searches ${JSON.stringify(result.searches)}, p50 ${result.searchP50Ms} ms`,
    );
    console.log(JSON.stringify(result));
  } finally {
    await svc.stop();
  }
}

await main();

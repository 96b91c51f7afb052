/**
 * One route's load generator in a process of its own (started by bench/load/clients.ts). Autocannon instances
 * sharing one process couple their routes: next to a search client, the GET batch status client got 29 req/s
 * and 6 s p99 from a server that gave it 901 req/s, p50 1 ms, when it ran in a process of its own.
 *
 * stdin: a ClientJob as one JSON line, then `go` once every client of the phase is ready. stdout: `ready`, then
 * `measuring` when the measured run starts (after the warmup), then the result as one JSON line.
 */
import { createInterface } from 'node:readline';
import { runRoute } from './cannon.ts';
import type { ClientJob } from './clients.ts';
import { requests } from './requests.ts';

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const job = JSON.parse((await lines.next()).value as string) as ClientJob;
const request = job.kind === 'bare' ? { method: 'GET', path: '/' } : requests(job.seed!)[job.kind];
const spec = { route: job.kind, url: job.url, connections: job.connections, timeout: job.timeout, request };
process.stdout.write('ready\n');
await lines.next();
if (job.warmup > 0) await runRoute({ ...spec, duration: job.warmup });
const ids: string[] = [];
process.stdout.write('measuring\n');
const result = await runRoute({
  ...spec,
  duration: job.duration,
  ...(job.kind === 'submit' ? { onOk: (body: string) => ids.push((JSON.parse(body) as { id: string }).id) } : {}),
});
process.stdout.write(JSON.stringify({ ...result, ids }) + '\n');
process.exit(0);

/**
 * Runs each route's autocannon load in a process of its own (bench/load/client-process.ts) and measures the CPU
 * time the server process spent over the measured run.
 */
import { spawn } from 'node:child_process';
import type { RouteResult } from './cannon.ts';
import type { Seed } from './seed.ts';
import { cpuMs, track } from './service.ts';

export type ClientKind = 'search' | 'check' | 'submit' | 'status' | 'bare';

export interface ClientJob {
  kind: ClientKind;
  url: string;
  connections: number;
  /** Seconds. */
  duration: number;
  warmup: number;
  timeout: number;
  /** For every kind but `bare`. */
  seed?: Seed;
}

export interface ClientResult extends RouteResult {
  /** Server CPU time per request over the measured run, µs. */
  cpuUs: number;
  /** `submit`: the ids of the batches it submitted. */
  ids: string[];
}

export interface Client {
  /** Resolves once the process has loaded and built its requests. */
  ready: Promise<void>;
  /** Starts the load; resolves with the result. */
  go(): Promise<ClientResult>;
}

/**
 * Starts a client process. A phase starts its clients, waits until every one is ready, then lets them all go at
 * once: a saturated Node server accepted one new connection per turn of its event loop (300–700 ms apart under
 * bench:load), so a client whose process started a second late saw all its 16 connections time out.
 */
export function startClient(job: ClientJob, serverPid: number | undefined): Client {
  const script = new URL('./client-process.ts', import.meta.url).pathname;
  const child = track(spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['pipe', 'pipe', 'inherit'] }));
  child.stdin.write(JSON.stringify(job) + '\n');
  let out = '';
  let c0 = NaN;
  let c1 = NaN;
  let isReady: () => void;
  const ready = new Promise<void>((r) => (isReady = r));
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (s: string) => {
    out += s;
    if (out.startsWith('ready\n')) isReady();
    if (Number.isNaN(c0) && out.includes('measuring\n')) c0 = cpuMs(serverPid);
    if (Number.isNaN(c1) && out.endsWith('}\n')) c1 = cpuMs(serverPid);
  });
  const done = new Promise<ClientResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      const last = out.trimEnd().split('\n').at(-1) ?? '';
      if (code !== 0 || !last.startsWith('{'))
        return reject(new Error(`the ${job.kind} load client exited with ${code}: ${out.slice(-500)}`));
      const r = JSON.parse(last) as RouteResult & { ids: string[] };
      resolve({ ...r, cpuUs: ((c1 - c0) * 1000) / r.requests });
    });
  });
  // A client that dies before it is ready must not leave the phase waiting.
  return {
    ready: Promise.race([ready, done.then(() => {})]),
    go() {
      child.stdin.end('go\n');
      return done;
    },
  };
}

/** Starts the clients together (see startClient) and answers their results in order. */
export async function runClients(jobs: ClientJob[], serverPid: number | undefined): Promise<ClientResult[]> {
  const clients = jobs.map((j) => startClient(j, serverPid));
  await Promise.all(clients.map((c) => c.ready));
  return Promise.all(clients.map((c) => c.go()));
}

/**
 * Read-only SQLite connections on worker threads (src/db/sqlite-reader-worker.js), for the reads of
 * src/db/query-limits.ts: a request awaits its rows while the event loop serves everyone else. Threads start
 * on first use. A query still waiting for a thread at its deadline, or still running, is answered
 * QUERY_TIMEOUT at once; a running one stops at its next row (`bg_alive`), and a thread that has not answered
 * `graceMs` after its deadline (a statement without that check) is replaced.
 */
import { Worker } from 'node:worker_threads';
import { queryTimeout } from './query-timeout.ts';

interface Job {
  sql: string;
  params: readonly unknown[];
  deadline: number;
  resolve(rows: unknown[]): void;
  reject(e: unknown): void;
  timer: NodeJS.Timeout;
  done: boolean;
}

interface Slot {
  worker: Worker;
  job: Job | null;
  /** Replaces the thread when it overruns its deadline by graceMs. */
  overrun: NodeJS.Timeout | null;
}

export interface SqliteReaders {
  all(sql: string, params: readonly unknown[], deadline: number): Promise<unknown[]>;
  close(): Promise<void>;
}

const WORKER_URL = new URL('./sqlite-reader-worker.js', import.meta.url);

export function sqliteReaders(
  path: string,
  opts: { size: number; timeoutMs: number; graceMs?: number },
): SqliteReaders {
  const slots: Slot[] = [];
  const queue: Job[] = [];
  const graceMs = opts.graceMs ?? Math.max(1_000, opts.timeoutMs);
  let closed = false;

  function settle(job: Job, f: () => void): void {
    if (job.done) return;
    job.done = true;
    clearTimeout(job.timer);
    f();
  }

  function spawn(): Slot {
    // No execArgv: the thread is plain JavaScript, and a TypeScript loader (`--import tsx`) would only slow its start.
    const slot: Slot = {
      worker: new Worker(WORKER_URL, { workerData: { path }, execArgv: [] }),
      job: null,
      overrun: null,
    };
    slot.worker.unref();
    slot.worker.on('message', (m: { rows?: unknown[]; timeout?: true; error?: { message: string; code?: string } }) => {
      const job = slot.job;
      slot.job = null;
      if (slot.overrun) clearTimeout(slot.overrun);
      slot.overrun = null;
      if (job) {
        settle(job, () => {
          if (m.rows) job.resolve(m.rows);
          else if (m.timeout) job.reject(queryTimeout(opts.timeoutMs));
          else job.reject(Object.assign(new Error(m.error?.message ?? 'reader failed'), { code: m.error?.code }));
        });
      }
      pump();
    });
    const lost = (e: unknown) => {
      remove(slot);
      if (slot.job)
        settle(slot.job, () =>
          slot.job!.reject(e instanceof Error ? e : new Error(`SQLite reader thread exited (${String(e)})`)),
        );
      pump();
    };
    slot.worker.on('error', lost);
    slot.worker.on('exit', lost);
    slots.push(slot);
    return slot;
  }

  function remove(slot: Slot): void {
    const i = slots.indexOf(slot);
    if (i >= 0) slots.splice(i, 1);
    if (slot.overrun) clearTimeout(slot.overrun);
  }

  function pump(): void {
    while (!closed && queue.length > 0) {
      const slot = slots.find((s) => s.job === null) ?? (slots.length < opts.size ? spawn() : null);
      if (!slot) return;
      const job = queue.shift()!;
      slot.job = job;
      slot.worker.postMessage({ sql: job.sql, params: job.params, deadline: job.deadline });
    }
  }

  function expire(job: Job): void {
    settle(job, () => job.reject(queryTimeout(opts.timeoutMs)));
    const waiting = queue.indexOf(job);
    if (waiting >= 0) return void queue.splice(waiting, 1);
    const slot = slots.find((s) => s.job === job);
    if (slot && !slot.overrun) {
      slot.overrun = setTimeout(() => {
        remove(slot);
        void slot.worker.terminate();
        pump();
      }, graceMs);
      slot.overrun.unref();
    }
  }

  return {
    all(sql, params, deadline) {
      if (closed) return Promise.reject(new Error('SQLite readers closed'));
      return new Promise<unknown[]>((resolve, reject) => {
        const job: Job = {
          sql,
          params,
          deadline,
          resolve,
          reject,
          done: false,
          timer: undefined as unknown as NodeJS.Timeout,
        };
        job.timer = setTimeout(() => expire(job), Math.max(0, deadline - Date.now()));
        queue.push(job);
        pump();
      });
    },
    async close() {
      closed = true;
      for (const job of queue.splice(0)) settle(job, () => job.reject(new Error('SQLite readers closed')));
      await Promise.all(slots.splice(0).map((s) => (s.overrun && clearTimeout(s.overrun), s.worker.terminate())));
    },
  };
}

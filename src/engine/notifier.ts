import { EventEmitter } from 'node:events';
import type pg from 'pg';
import type { OpenDb } from '../db/open-db.ts';

/**
 * Wakes idle workers when there is work (submit, resume, retry, rethrottle) and progress subscribers when a
 * slice commits. In-process always; across processes through LISTEN/NOTIFY on PostgreSQL. Workers still poll
 * every few seconds for scheduled batches and expired leases, but never spin.
 */
export interface Notifier {
  /** Work may be available: wakes workers here and, on PostgreSQL, in every process. */
  workAvailable(): void;
  /**
   * A batch changed: a slice committed or a control ran (in-process only: SSE readers poll the row anyway, and
   * the status cache keeps a row at most BATCHGATE_STATUS_CACHE_MS).
   */
  progress(batchId: string): void;
  onProgress(fn: (batchId: string) => void): () => void;
  /** Resolves on the next work notification or after `ms`. */
  waitForWork(ms: number): Promise<void>;
  close(): Promise<void>;
}

/** Re-LISTEN attempts after the listening connection broke back off up to this (PostgreSQL restarting). */
const MAX_RELISTEN_PAUSE_MS = 5_000;

export async function makeNotifier(opened: OpenDb): Promise<Notifier> {
  const bus = new EventEmitter();
  bus.setMaxListeners(0);
  const channel = `batchgate_work${opened.schema ? `_${opened.schema}` : ''}`;
  /** The listening connection, and how to give it back to the pool exactly once. */
  let listener: { client: pg.PoolClient; release(err?: Error): void } | null = null;
  let closed = false;

  async function listen(): Promise<void> {
    const client = await opened.pool!.connect();
    let released = false;
    const current = {
      client,
      release(err?: Error) {
        if (released) return;
        released = true;
        if (listener === current) listener = null;
        client.release(err);
      },
    };
    client.on('notification', () => bus.emit('work'));
    client.on('error', (err) => {
      if (released) return;
      // While LISTEN itself runs, its failure is the caller's to handle (the first start, or relisten's loop).
      const established = listener === current;
      current.release(err);
      // Without a new LISTEN, workers of this process would hear of other processes' submits only at their next
      // idle poll, for as long as the process lives: every PostgreSQL restart silently slowed it down.
      if (established && !closed) void relisten();
    });
    try {
      await client.query(`listen ${channel}`);
    } catch (e) {
      current.release(e as Error);
      throw e;
    }
    listener = current;
  }

  async function relisten(): Promise<void> {
    for (let attempt = 0; !closed; attempt++) {
      await new Promise((r) => setTimeout(r, Math.min(MAX_RELISTEN_PAUSE_MS, 100 * 2 ** attempt)));
      if (closed) return;
      try {
        await listen();
        // Notifications sent while nobody listened are lost: let the workers look for themselves.
        bus.emit('work');
        return;
      } catch {
        /* still down: try again */
      }
    }
  }

  if (opened.caps.listenNotify && opened.pool) await listen();
  return {
    workAvailable() {
      bus.emit('work');
      if (opened.caps.listenNotify && opened.pool)
        opened.pool.query('select pg_notify($1, $2)', [channel, '']).catch(() => {});
    },
    progress(batchId) {
      bus.emit('progress', batchId);
    },
    onProgress(fn) {
      bus.on('progress', fn);
      return () => bus.off('progress', fn);
    },
    waitForWork(ms) {
      return new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          bus.off('work', done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        bus.once('work', done);
      });
    },
    async close() {
      closed = true;
      if (listener) {
        const current = listener;
        await current.client.query(`unlisten ${channel}`).catch(() => {});
        current.release();
      }
      bus.emit('work');
      bus.removeAllListeners();
    },
  };
}

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

export async function makeNotifier(opened: OpenDb): Promise<Notifier> {
  const bus = new EventEmitter();
  bus.setMaxListeners(0);
  const channel = `batchgate_work${opened.schema ? `_${opened.schema}` : ''}`;
  let listener: pg.PoolClient | null = null;
  if (opened.caps.listenNotify && opened.pool) {
    listener = await opened.pool.connect();
    listener.on('notification', () => bus.emit('work'));
    listener.on('error', () => {});
    await listener.query(`listen ${channel}`);
  }
  return {
    workAvailable() {
      bus.emit('work');
      if (opened.caps.listenNotify && opened.pool) opened.pool.query('select pg_notify($1, $2)', [channel, '']).catch(() => {});
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
      if (listener) {
        await listener.query(`unlisten ${channel}`).catch(() => {});
        listener.release();
        listener = null;
      }
      bus.emit('work');
      bus.removeAllListeners();
    },
  };
}

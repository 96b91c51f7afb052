import { TERMINAL } from '../core/states.ts';
import type { Batch } from './api-types.ts';
import type { Connection } from './connection.ts';
import { printLine } from './output.ts';
import { startProgress, type Progress } from './progress.ts';
import { ok } from './request.ts';
import { sseEvents } from './sse.ts';

export function isTerminal(b: Pick<Batch, 'state'>): boolean {
  return TERMINAL.includes(b.state);
}

function payload(b: Batch): Record<string, unknown> {
  const eta = b.eta_seconds === null ? '?' : b.eta_seconds < 1 ? '0s' : formatSeconds(b.eta_seconds);
  return {
    id: b.id,
    state: b.state,
    failed: b.failed,
    skipped: b.skipped,
    pct: (b.progress * 100).toFixed(1),
    rate: b.items_per_second === null ? '-' : b.items_per_second.toFixed(1),
    eta_text: eta,
  };
}

export function formatSeconds(s: number): string {
  const t = Math.ceil(s);
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, '0')}s`;
  return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m`;
}

export function summary(b: Batch): string {
  return `batch ${b.id} ${b.state}: ${b.succeeded} succeeded, ${b.failed} failed, ${b.skipped} skipped of ${b.total}${b.dry_run ? ' (dry run)' : ''}`;
}

/**
 * Follows a batch to a terminal state: its server-sent events (polling if the stream drops), drawn as a bar
 * with rate and ETA on a TTY and as plain periodic lines otherwise, on stderr. Resolves with the final batch.
 */
export async function watchBatch(conn: Connection, id: string, opts: { intervalMs: number }): Promise<Batch> {
  const path = { ws: conn.ws, id };
  let batch = await ok(conn.api.GET('/api/v1/workspaces/{ws}/batches/{id}', { params: { path } }));
  const bar: Progress = startProgress({
    tty: 'batch {id} {bar} {pct}% | {value}/{total} | {rate} items/s | ETA {eta_text} | {state}, {failed} failed',
    plain: 'batch {id} {state}: {value}/{total} ({pct}%), {rate} items/s, ETA {eta_text}, {failed} failed',
    total: batch.total,
    value: batch.total - batch.pending,
    payload: payload(batch),
    intervalMs: opts.intervalMs,
    silent: conn.json && !process.stderr.isTTY,
  });
  const show = (b: Batch) => {
    bar.setTotal(b.total);
    bar.update(b.total - b.pending, payload(b));
  };
  try {
    show(batch);
    if (!isTerminal(batch)) {
      try {
        const stream = await ok(
          conn.api.GET('/api/v1/workspaces/{ws}/batches/{id}/events', { params: { path }, parseAs: 'stream' }),
        );
        if (stream) {
          for await (const ev of sseEvents(stream as ReadableStream<Uint8Array>)) {
            batch = JSON.parse(ev.data) as Batch;
            show(batch);
            if (ev.event === 'end' || isTerminal(batch)) break;
          }
        }
      } catch {
        // The stream dropped (a restart, a proxy): polling below finishes the job.
      }
      while (!isTerminal(batch)) {
        await new Promise((r) => setTimeout(r, Math.min(opts.intervalMs, 1000)));
        batch = await ok(conn.api.GET('/api/v1/workspaces/{ws}/batches/{id}', { params: { path } }));
        show(batch);
      }
    }
  } finally {
    bar.stop();
  }
  if (!conn.json) printLine(summary(batch));
  return batch;
}

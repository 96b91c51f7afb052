import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Ctx } from '../core/context.ts';
import { coerceError } from '../errors.ts';
import { RUNNABLE } from '../core/states.ts';
import { finalizeIfDone } from './finalize-if-done.ts';
import { settleCancelled } from './controls.ts';
import type { Notifier } from './notifier.ts';
import { purgeFinishedItems } from './retention.ts';
import { runChunk, type ChunkRunner } from './run-chunk.ts';
import { claimChunk } from './sql/claim-chunk.ts';
import { nextDue } from './sql/next-due.ts';
import { reapExpired } from './sql/reap-expired.ts';
import { releaseLeftovers } from './sql/release-leftovers.ts';
import { retireCancelledChunks } from './sql/retire-cancelled-chunks.ts';
import { startDeliverer, type DelivererOptions } from './webhooks/deliverer.ts';

export interface WorkerOptions {
  /** Parallel chunk loops in this process; SQLite allows one writer, so 1 there. */
  concurrency?: number;
  /** A lease outlives a stalled slice by this much. 30 s: slices take ~15 ms, so only a dead or hung worker lapses. */
  leaseMs?: number;
  /** Idle poll: scheduled batches and reaping need a clock even when nobody notifies. */
  idlePollMs?: number;
  /** How often expired leases are reaped and straggling batches finalised. */
  maintenanceMs?: number;
  /** BATCHGATE_RETENTION_DAYS: purge the item rows of batches finished longer ago than this; off when absent. */
  retentionDays?: number | null;
  /** How often the retention purge runs: at start, then every 10 minutes (it only deletes what has aged out). */
  retentionEveryMs?: number;
  /** The webhook delivery loop that runs beside the chunk loops; false: none in this process. */
  webhooks?: DelivererOptions | false;
  /** Max chunks running at once per workspace, over every worker; 0 for no limit (BATCHGATE_WORKSPACE_CONCURRENCY). */
  workspaceLimit?: number;
}

export interface Worker {
  readonly owner: string;
  /** Finishes or releases the chunk in hand, then resolves. */
  stop(): Promise<void>;
}

/**
 * Starts the worker loops: claim a chunk, run it, repeat; sleep until notified when there is nothing to do. The
 * webhook delivery loop (src/engine/webhooks/deliverer.ts) runs beside them.
 */
export function startWorker(ctx: Ctx, notifier: Notifier, opts: WorkerOptions = {}): Worker {
  const owner = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const leaseMs = opts.leaseMs ?? 30_000;
  const idlePollMs = opts.idlePollMs ?? 1000;
  const maintenanceMs = opts.maintenanceMs ?? Math.min(5000, leaseMs / 2);
  const concurrency = ctx.caps.multiProcess ? (opts.concurrency ?? 2) : 1;
  let stopping = false;
  let lastMaintenance = 0;

  async function maintain(): Promise<void> {
    const now = Date.now();
    if (now - lastMaintenance < maintenanceMs) return;
    lastMaintenance = now;
    const reaped = await reapExpired(ctx);
    if (reaped.length) {
      ctx.metrics.leaseReclaims.inc(reaped.length);
      for (const c of reaped)
        ctx.log.warn(
          { batch_id: c.batch_id, chunk_id: c.id, previous_owner: c.lease_owner },
          'chunk reclaimed: its lease expired',
        );
    }
    // A batch whose every chunk is done but that is still runnable (its finisher died between commits, or it
    // was resumed empty) is ended here.
    const stragglers = await ctx.db
      .selectFrom('batch')
      .select('id')
      .where('state', 'in', RUNNABLE)
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('work_chunk')
              .select('id')
              .whereRef('work_chunk.batch_id', '=', 'batch.id')
              .where('work_chunk.state', '<>', 'done'),
          ),
        ),
      )
      .limit(100)
      .execute();
    for (const b of stragglers) await finalizeIfDone(ctx, b.id);
    // A cancel by an earlier batchgate whose process died before it skipped every pending item is settled here.
    const halfCancelled = await ctx.db
      .selectFrom('batch')
      .select('id')
      .where('state', '=', 'cancelled')
      .where((eb) => eb('total', '>', eb(eb('succeeded', '+', eb.ref('failed')), '+', eb.ref('skipped'))))
      .limit(10)
      .execute();
    for (const b of halfCancelled) await settleCancelled(ctx, b.id);
    await retireCancelledChunks(ctx);
  }

  async function loop(n: number): Promise<void> {
    // Each loop leases under a name of its own, so that it can tell its own leftovers from a sibling's chunk in hand.
    const runner: ChunkRunner = {
      ctx,
      owner: `${owner}/${n}`,
      leaseMs,
      stopping: () => stopping,
      onProgress: (batchId) => notifier.progress(batchId),
    };
    // After an error, and every maintenance period (a crashed database may drop commits it acknowledged).
    let tidyAt = 0;
    while (!stopping) {
      try {
        // Let the event loop run between chunks. SQLite answers every statement synchronously, so the loop went
        // from chunk to chunk in promise continuations alone and the process served no request until the queue was
        // empty: during a 100k-item batch (9.3 s) one GET /healthz waited 9.2 s. Yielding here, 50 probes got
        // through, the slowest in 227 ms (one chunk), and the batch took 10.9 s instead of 9.3 on a busy machine.
        await new Promise((resolve) => setImmediate(resolve));
        await maintain();
        if (Date.now() >= tidyAt) {
          const released = await releaseLeftovers(ctx, runner.owner);
          if (released) ctx.log.warn({ released, owner: runner.owner }, 'released chunks this loop no longer held');
          tidyAt = Date.now() + maintenanceMs;
        }
        const claimedAt = ctx.now();
        const chunk = await claimChunk(ctx, runner.owner, leaseMs, { workspaceLimit: opts.workspaceLimit ?? 0 });
        if (!chunk) {
          // Due after this claim looked (a rate limit's not_before passing meanwhile): look again at once rather
          // than a poll later. Due before it and still not claimed: a sibling's claim holds the chunk, or the
          // workspace limit does; the next poll (or a notification) will tell.
          const due = await nextDue(ctx);
          const now = ctx.now();
          await notifier.waitForWork(
            due === null || due <= claimedAt ? idlePollMs : Math.min(idlePollMs, Math.max(0, due - now)),
          );
          continue;
        }
        // Lost: reaped, cancelled, or given up during an outage, when it may still be leased to us.
        if ((await runChunk(runner, chunk)) === 'lost') tidyAt = 0;
      } catch (e) {
        if (stopping) break;
        tidyAt = 0;
        // A database that is restarting fails every statement for a while: expected, and retried at the next poll.
        ctx.log[ctx.caps.isTransient(e) ? 'warn' : 'error']({ err: coerceError(e) }, 'worker loop error');
        await notifier.waitForWork(idlePollMs);
      }
    }
  }

  // Its own loop, beside the chunk loops: a long purge (sliced, see retention.ts) never holds up a chunk.
  let wakeRetention = () => {};
  async function retentionLoop(days: number): Promise<void> {
    const everyMs = opts.retentionEveryMs ?? 10 * 60_000;
    while (!stopping) {
      try {
        const purged = await purgeFinishedItems(ctx, days, { stopping: () => stopping });
        if (purged.batches) ctx.log.info({ ...purged, retention_days: days }, 'retention purge');
      } catch (e) {
        if (stopping) break;
        ctx.log.error({ err: coerceError(e) }, 'retention purge failed');
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, everyMs);
        wakeRetention = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  const loops = Array.from({ length: concurrency }, (_, n) => loop(n));
  const deliverer = opts.webhooks === false ? null : startDeliverer(ctx, notifier, opts.webhooks);
  if (opts.retentionDays) loops.push(retentionLoop(opts.retentionDays));
  ctx.log.info({ owner, concurrency, retention_days: opts.retentionDays ?? null }, 'worker started');
  return {
    owner,
    async stop() {
      stopping = true;
      notifier.workAvailable();
      wakeRetention();
      await Promise.all([...loops, deliverer?.stop()]);
    },
  };
}

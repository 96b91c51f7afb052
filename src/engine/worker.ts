import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Ctx } from '../core/context.ts';
import { coerceError } from '../errors.ts';
import { finalizeIfDone } from './batches.ts';
import type { Notifier } from './notifier.ts';
import { runChunk, type ChunkRunner } from './run-chunk.ts';
import { claimChunk } from './sql/claim-chunk.ts';
import { reapExpired } from './sql/reap-expired.ts';

export interface WorkerOptions {
  /** Parallel chunk loops in this process; SQLite allows one writer, so 1 there. */
  concurrency?: number;
  /** A lease outlives a stalled slice by this much. 30 s: slices take ~15 ms, so only a dead or hung worker lapses. */
  leaseMs?: number;
  /** Idle poll: scheduled batches and reaping need a clock even when nobody notifies. */
  idlePollMs?: number;
  /** How often expired leases are reaped and straggling batches finalised. */
  maintenanceMs?: number;
}

export interface Worker {
  readonly owner: string;
  /** Finishes or releases the chunk in hand, then resolves. */
  stop(): Promise<void>;
}

/** Starts the worker loops: claim a chunk, run it, repeat; sleep until notified when there is nothing to do. */
export function startWorker(ctx: Ctx, notifier: Notifier, opts: WorkerOptions = {}): Worker {
  const owner = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const leaseMs = opts.leaseMs ?? 30_000;
  const idlePollMs = opts.idlePollMs ?? 1000;
  const maintenanceMs = opts.maintenanceMs ?? Math.min(5000, leaseMs / 2);
  const concurrency = ctx.caps.multiProcess ? (opts.concurrency ?? 2) : 1;
  let stopping = false;
  let lastMaintenance = 0;

  const runner: ChunkRunner = {
    ctx,
    owner,
    leaseMs,
    stopping: () => stopping,
    sleep: (ms) => notifier.waitForWork(ms),
    onProgress: (batchId) => notifier.progress(batchId),
  };

  async function maintain(): Promise<void> {
    const now = Date.now();
    if (now - lastMaintenance < maintenanceMs) return;
    lastMaintenance = now;
    const reaped = await reapExpired(ctx);
    if (reaped) ctx.log.warn({ reaped }, 'reaped chunks whose lease expired');
    // A batch whose every chunk is done but that is still runnable (its finisher died between commits, or it
    // was resumed empty) is ended here.
    const stragglers = await ctx.db
      .selectFrom('batch')
      .select('id')
      .where('state', 'in', ['queued', 'running'])
      .where((eb) => eb.not(eb.exists(eb.selectFrom('work_chunk').select('id').whereRef('work_chunk.batch_id', '=', 'batch.id').where('work_chunk.state', '<>', 'done'))))
      .limit(100)
      .execute();
    for (const b of stragglers) await finalizeIfDone(ctx, b.id);
  }

  async function loop(): Promise<void> {
    while (!stopping) {
      try {
        await maintain();
        const chunk = await claimChunk(ctx, owner, leaseMs);
        if (!chunk) {
          await notifier.waitForWork(idlePollMs);
          continue;
        }
        await runChunk(runner, chunk);
      } catch (e) {
        if (stopping) break;
        ctx.log.error({ err: coerceError(e) }, 'worker loop error');
        await notifier.waitForWork(idlePollMs);
      }
    }
  }

  const loops = Array.from({ length: concurrency }, () => loop());
  ctx.log.info({ owner, concurrency }, 'worker started');
  return {
    owner,
    async stop() {
      stopping = true;
      notifier.workAvailable();
      await Promise.all(loops);
    },
  };
}

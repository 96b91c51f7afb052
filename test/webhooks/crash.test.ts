/**
 * A worker process killed (SIGKILL) in the middle of its webhook deliveries: a new one delivers every event, and the
 * only repeats are deliveries the dead one had in flight (at least once, deduplicated by event id).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createDatastore } from '../../src/core/datastores.ts';
import { createItems } from '../../src/core/items.ts';
import { createUser } from '../../src/core/users.ts';
import { createWebhook } from '../../src/core/webhooks/webhooks.ts';
import { createWorkspace } from '../../src/core/workspaces.ts';
import { submitBatch } from '../../src/engine/submit.ts';
import { describeEachDialect, openTestDb } from '../helpers/db.ts';
import { startReceiver } from '../helpers/receiver.ts';
import { PURCHASE_DS } from '../helpers/service.ts';
import { exited, spawnWorker } from '../helpers/worker-process.ts';
import { until } from '../helpers/wait.ts';

describeEachDialect('webhook delivery across a killed worker', (dialect) => {
  it(
    'a worker SIGKILLed mid-delivery loses no event; repeats are only deliveries it had in flight',
    { timeout: 120_000 },
    async (t) => {
      const db = await openTestDb(dialect);
      const seen = new Map<string, number>();
      // 40 ms per answer: with 8 POSTs in flight the kill lands mid-delivery.
      const recv = await startReceiver((x) => {
        seen.set(x.json.id, (seen.get(x.json.id) ?? 0) + 1);
        return { status: 200, delayMs: 40 };
      });
      try {
        const ctx = {
          ...db.ctx,
          settings: { ...db.ctx.settings, webhooks: { allowPrivate: true, allowedHosts: null } },
        };
        const user = await createUser(ctx, { name: 'u', isSystemAdmin: true });
        const principal = { userId: user.id, name: user.name, isSystemAdmin: true };
        const ws = await createWorkspace(ctx, principal, { name: 'w' });
        const access = { principal, workspaceId: ws.id, projectId: null, role: 'admin' as const };
        const ds = await createDatastore(ctx, ws.id, PURCHASE_DS as never);
        const ids = await createItems(
          ctx,
          access,
          ds,
          Array.from({ length: 200 }, (_, i) => ({ title: `i${i}` })),
        );
        const { webhook } = await createWebhook(ctx, access, {
          url: recv.url,
          events: ['ticket.assigned', 'batch.finished'],
        });
        const { batch } = await submitBatch(
          ctx,
          { principal, workspaceId: ws.id, role: 'admin' },
          { operation: 'action', action: 'submit', target: { ids } },
        );
        const states = () =>
          ctx.db
            .selectFrom('webhook_delivery')
            .innerJoin('webhook_event', 'webhook_event.id', 'webhook_delivery.event_id')
            .select(['webhook_event.id', 'webhook_delivery.state'])
            .where('webhook_id', '=', webhook.id)
            .execute();

        const env = { WEBHOOK_LEASE_MS: '1500' };
        const first = await spawnWorker(db, env);
        await recv.waitFor((rs) => rs.length >= 60, 60_000, '60 deliveries');
        first.kill('SIGKILL');
        await exited(first);
        const atKill = await states();
        const inFlight = new Set(atKill.filter((d) => d.state === 'sending').map((d) => d.id));
        assert.ok(
          atKill.some((d) => d.state === 'pending' || d.state === 'sending'),
          'killed before the end',
        );

        const second = await spawnWorker(db, env);
        await until(
          'every delivery through',
          states,
          (ds) => ds.length >= 201 && ds.every((d) => d.state === 'succeeded'),
          { show: (ds) => JSON.stringify(ds.filter((d) => d.state !== 'succeeded')) },
        );
        second.kill('SIGTERM');
        assert.equal(await exited(second), 0);

        const events = await ctx.db.selectFrom('webhook_event').select('id').where('batch_id', '=', batch.id).execute();
        assert.equal(events.length, 201, '200 ticket.assigned and one batch.finished');
        assert.deepEqual([...seen.keys()].sort(), events.map((e) => e.id).sort(), 'every event reached the receiver');
        const repeated = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
        t.diagnostic(`${inFlight.size} deliveries in flight at the kill, ${repeated.length} events received twice`);
        assert.ok(
          repeated.every((id) => inFlight.has(id)),
          `repeats ${repeated.length}, all of them in flight at the kill (${inFlight.size})`,
        );
        assert.ok(inFlight.size <= 8, "at most the loop's concurrency was in flight");
      } finally {
        await recv.close();
        await db.close();
      }
    },
  );
});

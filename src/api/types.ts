import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { Ctx } from '../core/context.ts';
import type { Engine } from '../engine/engine.ts';
import type { Outcome } from '../core/operations/types.ts';
import { AppError } from '../errors.ts';
import type { StreamSettings } from './native/event-streams.ts';

export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export interface RouteDeps {
  ctx: Ctx;
  engine: Engine;
  /** How long GET batch status may answer from memory (batch-status-cache.ts); 0 turns the cache off. */
  statusCacheMs?: number;
  /** Event streams' cap, access re-check and backpressure (event-streams.ts); the defaults when absent. */
  streams?: StreamSettings;
}

/** A single-item route is a chunk of one: its one outcome either succeeded or is the error to answer. */
export function single(outcomes: Outcome[]): Outcome {
  const o = outcomes[0]!;
  if (o.state !== 'succeeded') throw new AppError(o.error_code ?? 'CONFLICT', o.error_message ?? undefined);
  return o;
}

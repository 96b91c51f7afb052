import type { FastifyRequest } from 'fastify';
import type { Ctx } from '../../core/context.ts';
import { dataartsScope, type DataartsScope } from '../../core/dataarts/scope.ts';
import { principalOf } from '../auth-hook.ts';

/** A header sent once; a repeated one counts as absent-and-invalid (empty), never as the first of several. */
function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? '' : v;
}

/** The DataArts request's scope: the caller, the `workspace` header, `X-Project-Id` and the path's project_id. */
export async function scopeOf(ctx: Ctx, req: FastifyRequest): Promise<DataartsScope> {
  const projectId = (req.params as { project_id: string }).project_id;
  return dataartsScope(
    ctx,
    await principalOf(ctx, req),
    { workspace: single(req.headers.workspace), xProjectId: single(req.headers['x-project-id']) },
    projectId,
  );
}

import { fail } from '../../errors.ts';
import { workspaceAccess, type Access, type Principal } from '../auth.ts';
import type { Ctx } from '../context.ts';

/** A DataArts call's standing: the caller's Access to the workspace of the `workspace` header, in the project of the path. */
export interface DataartsScope extends Access {
  readonly projectId: string;
  /** `{project_id}-workspace-{workspace}`: BatchOperationVO.tenant_id and ApproverVO.project_id. */
  readonly tenantId: string;
}

export const MAX_HEADER_ID = 64;

/**
 * Resolves the `workspace` header (required) and checks that the path's project_id is that workspace's
 * project. A workspace the caller may not see, or one whose project is another, answers 404 alike, so the
 * ids of other tenants reveal nothing. `X-Project-Id`, when sent, must name the same project.
 */
export async function dataartsScope(
  ctx: Ctx,
  principal: Principal,
  headers: { workspace?: string | undefined; xProjectId?: string | undefined },
  projectId: string,
): Promise<DataartsScope> {
  const ws = headers.workspace?.trim();
  if (!ws) fail('VALIDATION_FAILED', 'The `workspace` header (the workspace id) is required.');
  if (ws.length > MAX_HEADER_ID)
    fail('VALIDATION_FAILED', `The \`workspace\` header must be at most ${MAX_HEADER_ID} characters.`);
  if (headers.xProjectId !== undefined && headers.xProjectId !== projectId) {
    fail('VALIDATION_FAILED', 'The X-Project-Id header must be the project_id of the path.');
  }
  const access = await workspaceAccess(ctx, principal, ws);
  if (access.projectId === null || access.projectId !== projectId) {
    fail('WORKSPACE_NOT_FOUND', `Workspace ${ws} is not in project ${projectId}.`);
  }
  return { ...access, projectId, tenantId: `${projectId}-workspace-${access.workspaceId}` };
}

import type { App, RouteDeps } from '../types.ts';
import { approvalRoutes } from './approvals.ts';
import { approverRoutes } from './approvers.ts';
import { routeNotFound, sendDataartsError } from './ds-errors.ts';
import { operationResultRoutes } from './operation-results.ts';
import { pendingEditRoutes } from './pending-edits.ts';
import { transformRoutes } from './transform.ts';

/**
 * DataArts Architecture approvals under /v1|/v2/{project_id}/design (docs/dataarts.md). Every route is served under both
 * versions: DataArts fixes the version per endpoint, and a client that picks the other one is still understood.
 * Errors, including unknown routes under /v1 and /v2, answer in the DataArts envelope with DS.60xx codes.
 */
export function dataartsApi(deps: RouteDeps) {
  return async function plugin(app: App): Promise<void> {
    app.setErrorHandler((err, req, reply) => sendDataartsError(err, req, reply));
    for (const version of ['v1', 'v2']) {
      await app.register(
        async (scoped: App) => {
          scoped.setNotFoundHandler((req, reply) => sendDataartsError(routeNotFound(req), req, reply));
          approvalRoutes(scoped, deps);
          approverRoutes(scoped, deps);
          operationResultRoutes(scoped, deps);
          pendingEditRoutes(scoped, deps);
          transformRoutes(scoped, deps);
        },
        { prefix: `/${version}` },
      );
    }
  };
}

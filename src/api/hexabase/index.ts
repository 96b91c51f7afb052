import { AppError } from '../../errors.ts';
import type { App, RouteDeps } from '../types.ts';
import { datastoreRoutes } from './datastores.ts';
import { sendHexabaseError } from './errors.ts';
import { itemRoutes } from './items.ts';

/**
 * Hexabase v0 items API under /api/v0 (the Hexabase API documentation (apidoc.hexabase.com); docs/hexabase.md): ExecuteBulkAction and
 * the item, action, status and field calls around it. `:app_id` is a workspace id or project_id; datastores and
 * actions are named by id or display_id. Errors answer in Hexabase's envelope (./errors.ts).
 */
export function hexabaseApi(deps: RouteDeps) {
  return async function plugin(app: App): Promise<void> {
    app.setErrorHandler((err, req, reply) => sendHexabaseError(err, req, reply));
    app.setNotFoundHandler((req, reply) =>
      sendHexabaseError(
        new AppError('ROUTE_NOT_FOUND', `No route ${req.method} ${req.url.split('?')[0]}.`),
        req,
        reply,
      ),
    );
    itemRoutes(app, deps);
    datastoreRoutes(app, deps);
  };
}

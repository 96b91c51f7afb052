import { sendNativeError } from '../errors-http.ts';
import { batchRoutes } from './batches.ts';
import { connectionRoutes } from './connections.ts';
import { datastoreRoutes } from './datastores.ts';
import { invitationRoutes } from './invitations.ts';
import { itemRoutes } from './items.ts';
import { modelRoutes } from './models.ts';
import { ticketRoutes } from './tickets.ts';
import type { App, RouteDeps } from '../types.ts';
import { userRoutes } from './users.ts';
import { webhookRoutes } from './webhooks.ts';
import { workspaceRoutes } from './workspaces.ts';

/** The native API under /api/v1: every route needs a token (checked first, app.ts); errors answer `{error: {code, message, details?}}`. */
export function nativeApi(deps: RouteDeps) {
  return async function plugin(app: App): Promise<void> {
    app.setErrorHandler((err, req, reply) => sendNativeError(err, req, reply));
    userRoutes(app, deps);
    workspaceRoutes(app, deps);
    invitationRoutes(app, deps);
    datastoreRoutes(app, deps);
    itemRoutes(app, deps);
    ticketRoutes(app, deps);
    batchRoutes(app, deps);
    connectionRoutes(app, deps);
    modelRoutes(app, deps);
    webhookRoutes(app, deps);
  };
}

import type { App, RouteDeps } from '../native/types.ts';

/** DataArts Architecture approvals under /v1|/v2/{project_id}/design (issue 4). */
export function dataartsApi(_deps: RouteDeps) {
  return async function plugin(_app: App): Promise<void> {};
}

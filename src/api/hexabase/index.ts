import type { App, RouteDeps } from '../native/types.ts';

/** Hexabase v0 items API under /api/v0 (issue 6). */
export function hexabaseApi(_deps: RouteDeps) {
  return async function plugin(_app: App): Promise<void> {};
}

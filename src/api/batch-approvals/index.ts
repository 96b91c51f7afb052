import type { App, RouteDeps } from '../native/types.ts';

/** The batch approval open API: /batch_approvals/_check and _submit (issue 5). */
export function batchApprovalsApi(_deps: RouteDeps) {
  return async function plugin(_app: App): Promise<void> {};
}

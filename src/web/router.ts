/** Pages render into `main` and return a cleanup (stop streams and timers) run when the user navigates away. */
export type Cleanup = () => void;
export type Page = (main: HTMLElement, params: string[]) => Cleanup | void;

/** Navigate to a fragment route (`/inbox`, `/batches/{id}`); re-renders even when it is the current one. */
export function go(path: string): void {
  if (location.hash === `#${path}`) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = path;
}

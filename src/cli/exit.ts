/** Exit codes of every client command: 0 success, 1 finished with item failures, 2 usage or request error. */
export const EXIT = Object.freeze({ ok: 0, itemFailures: 1, usage: 2 } as const);

/** An error the CLI reports on stderr as `batchgate: <message>` and exits with `code`. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT.usage) {
    super(message);
    this.exitCode = exitCode;
  }
}

export function usage(message: string): never {
  throw new CliError(message, EXIT.usage);
}

/** A batch that ends with item failures (or failed outright) exits 1. */
export function exitCodeForState(state: string): number {
  return state === 'completed_with_errors' || state === 'failed' ? EXIT.itemFailures : EXIT.ok;
}

import cliProgress from 'cli-progress';

export interface Progress {
  update(value: number, payload?: Record<string, unknown>): void;
  setTotal(total: number): void;
  stop(): void;
}

export interface ProgressOptions {
  /** The bar's line on a TTY; `{bar}` and cli-progress tokens plus the payload's keys. */
  tty: string;
  /** The periodic plain line otherwise (no bar). */
  plain: string;
  total: number;
  /** Where the bar starts. */
  value?: number;
  payload: Record<string, unknown>;
  /** Milliseconds between plain lines. */
  intervalMs: number;
  /** Nothing at all (machine output on a pipe). */
  silent?: boolean;
}

/** A non-TTY stream for cli-progress that drops a line identical to the one before (the start and stop renders). */
function dedupedLines(out: NodeJS.WriteStream): NodeJS.WriteStream {
  let line = '';
  let last: string | null = null;
  return {
    isTTY: false,
    write(s: string) {
      for (const part of s.split(/(\n)/)) {
        if (part !== '\n') line += part;
        else {
          if (line !== last && line !== '') out.write(line + '\n');
          last = line || last;
          line = '';
        }
      }
      return true;
    },
  } as unknown as NodeJS.WriteStream;
}

/**
 * Progress on stderr, so stdout stays for results: a cli-progress bar on a TTY, plain periodic lines otherwise
 * (cli-progress noTTYOutput), nothing when silent.
 */
export function startProgress(o: ProgressOptions): Progress {
  if (o.silent) return { update() {}, setTotal() {}, stop() {} };
  const stream = process.stderr.isTTY ? process.stderr : dedupedLines(process.stderr);
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: stream.isTTY ? o.tty : o.plain,
      noTTYOutput: true,
      notTTYSchedule: o.intervalMs,
      hideCursor: stream.isTTY === true,
      // Plain mode already ended its last line.
      clearOnComplete: stream.isTTY !== true,
      barsize: 30,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(o.total, o.value ?? 0, o.payload);
  return {
    update: (value, payload) => bar.update(value, payload ?? {}),
    setTotal: (total) => bar.setTotal(total),
    stop: () => bar.stop(),
  };
}

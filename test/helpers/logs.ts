import type { DestinationStream } from 'pino';

export interface CapturedLogs {
  destination: DestinationStream;
  /** Everything written, exactly as a log shipper would read it. */
  text(): string;
  /** Each line parsed. */
  lines(): Record<string, any>[];
}

/** A pino destination that keeps every line in memory. */
export function captureLogs(): CapturedLogs {
  const chunks: string[] = [];
  return {
    destination: { write: (s: string) => void chunks.push(s) },
    text: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l)),
  };
}

import { usage } from './exit.ts';

/** A JSON option value (`--where`, `--fields`); `what` is the option's name for the message. */
export function parseJsonArg(what: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    return usage(`${what} is not valid JSON: ${(e as Error).message}`);
  }
}

export function parseJsonArray(what: string, text: string): unknown[] {
  const v = parseJsonArg(what, text);
  // A single condition object is taken as a list of one.
  if (v && typeof v === 'object' && !Array.isArray(v)) return [v];
  if (!Array.isArray(v)) usage(`${what} must be a JSON array of conditions`);
  return v;
}

export function parseJsonObject(what: string, text: string): Record<string, unknown> {
  const v = parseJsonArg(what, text);
  if (!v || typeof v !== 'object' || Array.isArray(v)) usage(`${what} must be a JSON object`);
  return v as Record<string, unknown>;
}

export function parsePositive(what: string, text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) usage(`${what} must be a positive number, got ${JSON.stringify(text)}`);
  return n;
}

/** An ISO date-time, or a delay from now: `+30s`, `+10m`, `+2h`, `+1d`. */
export function parseStartAt(text: string, now = Date.now()): string {
  const rel = /^\+(\d+(?:\.\d+)?)([smhd])$/.exec(text);
  if (rel)
    return new Date(now + Number(rel[1]) * { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[rel[2] as 's']).toISOString();
  const t = Date.parse(text);
  if (Number.isNaN(t)) usage(`--start-at must be an ISO date-time or +<n>s|m|h|d, got ${JSON.stringify(text)}`);
  return new Date(t).toISOString();
}

/** A batch priority: an integer from 1 to 100 (the API says the same with a 400, this says it before sending). */
export function parsePriority(what: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 100)
    usage(`${what} must be an integer from 1 to 100, got ${JSON.stringify(text)}`);
  return n;
}

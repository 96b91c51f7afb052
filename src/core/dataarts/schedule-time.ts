import { fail } from '../../errors.ts';

const SCHEDULE_TIME = /^([0-5]?[0-9])_([01]?[0-9]|2[0-3])$/;
const DAY_MS = 86_400_000;

/**
 * The start of a batch given `schedule_time` "MM_HH" ("30_18" is 18:30): the next such minute strictly after
 * `now`, in UTC (today if it is still ahead, else tomorrow). Anything else is refused, never guessed.
 */
export function nextScheduleTime(spec: string, now: number): number {
  const m = SCHEDULE_TIME.exec(spec);
  if (!m) fail('VALIDATION_FAILED', 'schedule_time must be "MM_HH" (minute 00-59, hour 00-23), e.g. "30_18" for 18:30 UTC.');
  const d = new Date(now);
  const at = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), Number(m[2]), Number(m[1]));
  return at > now ? at : at + DAY_MS;
}

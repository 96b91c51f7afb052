import { fail } from '../../errors.ts';

const SCHEDULE_TIME = /^([0-5]?[0-9])_([01]?[0-9]|2[0-3])$/;
const DAY_MS = 86_400_000;

/**
 * The start of a batch given `schedule_time` "MM_HH" ("30_18" is 18:30): the next such minute strictly after
 * `now`, in UTC shifted by `utcOffsetMinutes` (BATCHGATE_SCHEDULE_UTC_OFFSET, e.g. +08:00 for clients in
 * China; 0 by default): today if it is still ahead, else tomorrow. Anything else is refused, never guessed.
 */
export function nextScheduleTime(spec: string, now: number, utcOffsetMinutes = 0): number {
  const m = SCHEDULE_TIME.exec(spec);
  if (!m)
    fail('VALIDATION_FAILED', 'schedule_time must be "MM_HH" (minute 00-59, hour 00-23), e.g. "30_18" for 18:30.');
  const offset = utcOffsetMinutes * 60_000;
  const local = new Date(now + offset);
  const at =
    Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate(), Number(m[2]), Number(m[1])) - offset;
  return at > now ? at : at + DAY_MS;
}

/** Parses "+08:00", "-0530" or "Z" into minutes east of UTC; throws on anything else. */
export function parseUtcOffset(text: string): number {
  if (text === '' || text.toUpperCase() === 'Z') return 0;
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(text);
  if (!m || Number(m[2]) > 14 || Number(m[3]) > 59)
    throw new Error(`BATCHGATE_SCHEDULE_UTC_OFFSET must look like +08:00, got ${JSON.stringify(text)}`);
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

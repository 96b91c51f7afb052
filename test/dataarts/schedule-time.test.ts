import assert from 'node:assert/strict';
import { it } from 'node:test';
import { nextScheduleTime, parseUtcOffset } from '../../src/core/dataarts/schedule-time.ts';

const at = (iso: string) => Date.parse(iso);

it('reads MM_HH as the next such minute in UTC', () => {
  assert.equal(nextScheduleTime('30_18', at('2026-11-22T10:00:00Z')), at('2026-11-22T18:30:00Z'));
  assert.equal(nextScheduleTime('30_18', at('2026-11-22T18:30:00Z')), at('2026-11-23T18:30:00Z'), 'strictly after now');
  assert.equal(nextScheduleTime('00_00', at('2026-12-31T23:59:00Z')), at('2027-01-01T00:00:00Z'));
});

it('reads MM_HH in a configured offset', () => {
  // 18:30 at +08:00 is 10:30 UTC.
  assert.equal(nextScheduleTime('30_18', at('2026-11-22T09:00:00Z'), 480), at('2026-11-22T10:30:00Z'));
  assert.equal(nextScheduleTime('30_18', at('2026-11-22T11:00:00Z'), 480), at('2026-11-23T10:30:00Z'));
  // 01:00 at +08:00 on the local day after a UTC evening.
  assert.equal(nextScheduleTime('00_01', at('2026-11-22T16:30:00Z'), 480), at('2026-11-22T17:00:00Z'));
  assert.equal(nextScheduleTime('00_23', at('2026-11-22T12:00:00Z'), -330), at('2026-11-23T04:30:00Z'));
});

it('parses offsets and refuses nonsense', () => {
  assert.equal(parseUtcOffset(''), 0);
  assert.equal(parseUtcOffset('Z'), 0);
  assert.equal(parseUtcOffset('+08:00'), 480);
  assert.equal(parseUtcOffset('-0530'), -330);
  for (const bad of ['8', '+8:00', '+15:00', 'UTC+8', '+08:60']) assert.throws(() => parseUtcOffset(bad), bad);
  for (const bad of ['18:30', '60_10', '10_24', '', '3018']) assert.throws(() => nextScheduleTime(bad, 0), bad);
});

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { it } from 'node:test';

const MODULE = new URL('../../src/tick-shape.ts', import.meta.url).href;

/**
 * In a child with V8's natives syntax: after settleTickShape, the tick objects Node makes, from interpreted and
 * from optimized nextTick alike, have the hidden class of the object that settled it, so their async-id fields
 * hold any value. No database: it is about the process, not our storage.
 */
function run(settle: boolean): string {
  const code = `
    import { createHook } from 'node:async_hooks';
    const { settleTickShape, tickShapeSettled } = await import(${JSON.stringify(MODULE)});
    const tick = () => { let t; const h = createHook({ init(_i, type, _t, r) { if (type === 'TickObject' && !t) t = r; } }).enable(); process.nextTick(() => {}); h.disable(); return t; };
    if (${settle}) settleTickShape();
    const early = tick();
    let n = 0;
    await new Promise((done) => { const f = () => (++n < 200000 ? process.nextTick(f) : done()); process.nextTick(f); });
    const late = tick();
    const settled = tickShapeSettled();
    console.log(JSON.stringify({ applied: settled !== null, early: settled ? %HaveSameMap(settled, early) : null, late: settled ? %HaveSameMap(settled, late) : null, ids: typeof late[Object.getOwnPropertySymbols(late)[0]] }));
  `;
  return execFileSync(
    process.execPath,
    ['--allow-natives-syntax', '--import', 'tsx', '--input-type=module', '-e', code],
    { encoding: 'utf8' },
  ).trim();
}

it('settles the hidden class of Node’s tick objects once, for interpreted and optimized nextTick alike', () => {
  assert.deepEqual(JSON.parse(run(true)), { applied: true, early: true, late: true, ids: 'number' });
});

it('does nothing until asked', () => {
  assert.deepEqual(JSON.parse(run(false)), { applied: false, early: null, late: null, ids: 'number' });
});

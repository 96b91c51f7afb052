import { createHook } from 'node:async_hooks';

/**
 * Widens the two async-id fields of Node's nextTick objects to any value, once, at start.
 *
 * Why: every HTTP request makes six or seven `process.nextTick` calls inside Node's http and stream code, and
 * Node 20 builds each tick object with a literal whose first two keys are computed (its async-id symbols), holding
 * doubles from a Float64Array. In some processes V8's optimized code then built every tick object through the
 * runtime (Runtime_DefineKeyedOwnPropertyInLiteral, AddDataProperty, MigrateToMap): about 3,500 instructions a
 * tick, 27k of the 167k a GET batch status cost under callgrind. Whether a process went that way depended on
 * what ran before, so the same service measured 9,300 to 13,900 req/s from one start to the next. With the fields
 * widened to tagged values (one object of the same shape holding strings there), that path was gone in every run:
 * 121k instructions a request. The shape is Node's, so this is a no-op wherever Node builds tick objects
 * differently.
 */
let settled: object | null = null;

/** A tick object as Node makes it: seen through an init hook enabled only for one nextTick. */
function oneTickObject(): object | undefined {
  let tick: object | undefined;
  const hook = createHook({
    init(_id, type, _trigger, resource) {
      if (type === 'TickObject' && tick === undefined) tick = resource as object;
    },
  }).enable();
  process.nextTick(() => {});
  hook.disable();
  return tick;
}

export function settleTickShape(): void {
  if (settled) return;
  const tick = oneTickObject();
  if (!tick) return;
  const ids = Object.getOwnPropertySymbols(tick);
  const named = Object.keys(tick);
  if (ids.length !== 2 || named.join() !== 'callback,args') return;
  // The same keys in the same order as Node's literal (so the same hidden class), with values that are not numbers.
  settled = { [ids[0]!]: '', [ids[1]!]: '', callback: null, args: null };
}

/** The object that settled the shape, or null where it did not apply (a test compares its hidden class). */
export function tickShapeSettled(): object | null {
  return settled;
}

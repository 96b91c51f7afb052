/** canonical() is what idempotency hashes and draft comparisons rest on: key order never matters, values do. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { canonical } from '../../src/core/canonical.ts';

it('sorts keys at every level and keeps array order', () => {
  assert.equal(canonical({ b: 1, a: { d: [2, 1], c: null } }), '{"a":{"c":null,"d":[2,1]},"b":1}');
  assert.equal(canonical({ a: 1, b: 2 }), canonical({ b: 2, a: 1 }));
  assert.notEqual(canonical([1, 2]), canonical([2, 1]));
});

it('leaves undefined members out, as stored JSON does, and reads a missing value as null', () => {
  assert.equal(canonical({ a: 1, b: undefined }), canonical({ a: 1 }));
  assert.equal(canonical(undefined), 'null');
  assert.equal(canonical(['x', 1.5, true]), '["x",1.5,true]');
});

/**
 * tokenOf (src/api/auth-hook.ts) reads the usual `Bearer <token>` without a regex; every other header goes through
 * the pattern. Property: both ways give the token the pattern alone gives, for any header a client could send.
 * Pure string handling, no database.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import type { FastifyRequest } from 'fastify';
import { tokenOf } from '../../src/api/auth-hook.ts';

function byPattern(auth: string): string | undefined {
  return /^Bearer\s+(.+)$/i.exec(auth.trim())?.[1];
}

const latin1 = fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c));
const piece = fc.oneof(
  fc.constantFrom('Bearer', 'bearer', 'BEARER', ' ', '  ', '\t', '\u00a0', '\u0085', 'bg_', 'x', '='),
  fc.string({ unit: latin1, maxLength: 8 }),
);

it('answers the pattern’s token for any Authorization header', () => {
  fc.assert(
    fc.property(
      fc.array(piece, { maxLength: 6 }).map((p) => p.join('')),
      (auth) => {
        const req = { headers: { authorization: auth } } as unknown as FastifyRequest;
        assert.equal(tokenOf(req), byPattern(auth));
      },
    ),
    { numRuns: 5000 },
  );
  for (const auth of [
    'Bearer a\nb',
    'Bearer a\rb',
    'Bearer bg_abc',
    'Bearer  bg_abc',
    'Bearer \u00a0bg_abc',
    'Bearer bg_abc\u00a0',
    'bearer bg_abc',
    'Bearer a b',
    'Bearer ',
  ]) {
    assert.equal(
      tokenOf({ headers: { authorization: auth } } as unknown as FastifyRequest),
      byPattern(auth),
      JSON.stringify(auth),
    );
  }
});

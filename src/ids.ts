import { randomInt } from 'node:crypto';

/**
 * Snowflake-style ids: 41 bits of milliseconds since 2015-01-01, 10 bits of node, 12 bits of sequence.
 * Anything minted after 2015-02 is above 2^53 and has 19 digits (like DataArts' own ids), so a client that
 * parses them as JSON doubles loses precision: that is why the JSON body parser keeps long integer literals
 * as strings. Fixed width means text order is time order, so ids are stored as text and sorted as text.
 */
const EPOCH = 1_420_070_400_000n;
const NODE_BITS = 10n;
const SEQ_BITS = 12n;
const SEQ_MASK = (1n << SEQ_BITS) - 1n;

export interface IdGenerator {
  next(): string;
  /** Reserves `n` consecutive ids in one step (batch children, bulk imports). */
  many(n: number): string[];
}

export function makeIdGenerator(node: number = randomInt(0, 1024)): IdGenerator {
  const nodeBits = BigInt(node & 1023) << SEQ_BITS;
  let lastMs = 0n;
  let seq = 0n;

  function next(): string {
    let ms = BigInt(Date.now()) - EPOCH;
    if (ms < lastMs) ms = lastMs; // clock stepped back: keep monotonic
    if (ms === lastMs) {
      seq = (seq + 1n) & SEQ_MASK;
      if (seq === 0n) ms = ++lastMs; // 4096 ids in one ms: borrow the next ms
    } else {
      seq = 0n;
    }
    lastMs = ms;
    return ((ms << (NODE_BITS + SEQ_BITS)) | nodeBits | seq).toString();
  }

  return {
    next,
    many(n) {
      const out = new Array<string>(n);
      for (let i = 0; i < n; i++) out[i] = next();
      return out;
    },
  };
}

export const ID_PATTERN = '^[0-9]{1,20}$';

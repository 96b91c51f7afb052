import { AppError } from '../errors.ts';

/** Deeper than this is refused before parsing: conditions nest at most 8, definitions a handful of levels. */
export const MAX_JSON_DEPTH = 64;

/**
 * Parses a JSON request body with two guards JSON.parse lacks:
 * - integer literals outside the safe range become strings, so 19-digit ids sent as numbers (seed 000's Long)
 *   keep every digit; a schema then accepts them where it accepts id strings and refuses them elsewhere;
 * - nesting deeper than MAX_JSON_DEPTH is refused, so validators that recurse never meet a hostile depth.
 * One pass over the text; bodies with neither a long digit run nor deep nesting go straight to JSON.parse.
 */
export function parseJsonBody(text: string): unknown {
  let depth = 0;
  let maxDepth = 0;
  let inString = false;
  let needsRewrite = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > maxDepth) maxDepth = depth;
      if (depth > MAX_JSON_DEPTH) throw new AppError('NESTING_TOO_DEEP', `JSON nests deeper than ${MAX_JSON_DEPTH} levels.`);
    } else if (c === 125 || c === 93) depth--;
    else if (c >= 48 && c <= 57) {
      let j = i;
      while (j < text.length && text.charCodeAt(j) >= 48 && text.charCodeAt(j) <= 57) j++;
      if (j - i >= 16) needsRewrite = true;
      i = j - 1;
    }
  }
  const source = needsRewrite ? quoteUnsafeIntegers(text) : text;
  try {
    return JSON.parse(source);
  } catch (e) {
    throw new AppError('INVALID_JSON', `The request body is not valid JSON: ${(e as Error).message}`);
  }
}

function quoteUnsafeIntegers(text: string): string {
  let out = '';
  let last = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 34) {
      inString = true;
      continue;
    }
    const startsNumber = (c >= 48 && c <= 57) || c === 45; /* - */
    if (!startsNumber) continue;
    let j = i + (c === 45 ? 1 : 0);
    while (j < text.length && text.charCodeAt(j) >= 48 && text.charCodeAt(j) <= 57) j++;
    const next = text.charCodeAt(j);
    const isInteger = !(next === 46 || next === 101 || next === 69); /* . e E */
    const literal = text.slice(i, j);
    if (isInteger && literal.length >= 16 && !Number.isSafeInteger(Number(literal))) {
      out += `${text.slice(last, i)}"${literal}"`;
      last = j;
    }
    i = j - 1;
  }
  return out + text.slice(last);
}

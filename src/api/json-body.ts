import { AppError } from '../errors.ts';

/** Deeper than this is refused before parsing: conditions nest at most 8, definitions a handful of levels. */
export const MAX_JSON_DEPTH = 64;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A NUL or a lone surrogate (with the `u` flag a well-formed pair is one astral code point, not `Cs`). */
const UNSTORABLE = /[\0\p{Cs}]/u;

/**
 * Parses a JSON request body with the guards JSON.parse lacks:
 * - bytes that are not UTF-8 are refused (INVALID_JSON) instead of decoding to U+FFFD, which would store
 *   something other than what was sent;
 * - integer literals outside the safe range become strings, so 19-digit ids sent as numbers (DataArts' Long ids)
 *   keep every digit; a schema then accepts them where it accepts id strings and refuses them elsewhere.
 *   Fractions and exponents are left alone, whatever their length;
 * - nesting deeper than MAX_JSON_DEPTH is refused, so validators that recurse never meet a hostile depth;
 * - strings (values and keys) holding NUL or a lone surrogate, and numbers beyond a double (1e400), are
 *   refused (VALIDATION_FAILED): neither PostgreSQL text nor jsonb can store NUL, a lone surrogate cannot be
 *   written as UTF-8, and Infinity is written as null, so none could be stored verbatim and read back.
 * One pass over the text; the parsed value is walked only if the text has a \u escape or an exponent.
 */
export function parseJsonBody(body: string | Uint8Array): unknown {
  let text: string;
  if (typeof body === 'string') {
    text = body;
  } else {
    try {
      text = utf8.decode(body);
    } catch {
      throw new AppError('INVALID_JSON', 'The request body is not valid UTF-8.');
    }
  }
  let depth = 0;
  let inString = false;
  let hasUnicodeEscape = false;
  let mayOverflow = false;
  /** [start, end) of integer literals to quote. */
  const unsafe: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) {
        if (text.charCodeAt(i + 1) === 117 /* u */) hasUnicodeEscape = true;
        i++;
      } else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > MAX_JSON_DEPTH)
        throw new AppError('NESTING_TOO_DEEP', `JSON nests deeper than ${MAX_JSON_DEPTH} levels.`);
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
    else if (c === 45 /* - */ || isDigit(c)) {
      const end = scanNumber(text, i);
      if (end.exponent || end.intDigits > 308) mayOverflow = true;
      if (
        end.integer &&
        end.intDigits >= 16 &&
        text.charCodeAt(end.intStart) !== 48 /* leading 0: invalid JSON, leave it */
      ) {
        if (!Number.isSafeInteger(Number(text.slice(i, end.end)))) unsafe.push(i, end.end);
      }
      i = end.end - 1;
    }
  }
  let source = text;
  if (unsafe.length > 0) {
    source = '';
    let last = 0;
    for (let k = 0; k < unsafe.length; k += 2) {
      source += `${text.slice(last, unsafe[k])}"${text.slice(unsafe[k], unsafe[k + 1])}"`;
      last = unsafe[k + 1]!;
    }
    source += text.slice(last);
  }
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (e) {
    throw new AppError('INVALID_JSON', `The request body is not valid JSON: ${(e as Error).message}`);
  }
  // A raw NUL is invalid JSON and a decoded body has no lone surrogate, so only \u escapes can bring them in
  // (a string argument, not from the wire, is checked whole); only an exponent or 309+ integer digits can
  // overflow to Infinity, which JSON.stringify would store as null.
  if (mayOverflow || hasUnicodeEscape || (typeof body === 'string' && UNSTORABLE.test(text))) checkValues(value, '');
  return value;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** The extent of a number token starting at `i`: `-? digits (. digits)? ([eE] [+-]? digits)?`. */
function scanNumber(
  text: string,
  i: number,
): { end: number; integer: boolean; exponent: boolean; intStart: number; intDigits: number } {
  let j = i;
  if (text.charCodeAt(j) === 45) j++;
  const intStart = j;
  while (isDigit(text.charCodeAt(j))) j++;
  const intDigits = j - intStart;
  let integer = true;
  if (text.charCodeAt(j) === 46 /* . */) {
    integer = false;
    j++;
    while (isDigit(text.charCodeAt(j))) j++;
  }
  const e = text.charCodeAt(j);
  const exponent = e === 101 || e === 69; /* e E */
  if (exponent) {
    integer = false;
    j++;
    const sign = text.charCodeAt(j);
    if (sign === 43 || sign === 45 /* + - */) j++;
    while (isDigit(text.charCodeAt(j))) j++;
  }
  return { end: Math.max(j, i + 1), integer, exponent, intStart, intDigits };
}

/** Answers like a schema failure (Ajv's `body/path must …` and details), the path made printable. */
function refuse(path: string, must: string): never {
  const where = (path || '/').replace(/[\0\p{Cs}]/gu, '\uFFFD');
  throw new AppError('VALIDATION_FAILED', `body${path ? where : ''} ${must}`, [{ path: where, message: must }]);
}

function checkString(path: string, s: string): void {
  if (UNSTORABLE.test(s))
    refuse(
      path,
      s.includes('\0') ? 'must not contain a NUL character (U+0000)' : 'must not contain an unpaired UTF-16 surrogate',
    );
}

/** Depth is bounded by MAX_JSON_DEPTH, so the recursion is too. */
function checkValues(v: unknown, path: string): void {
  if (typeof v === 'string') {
    checkString(path, v);
  } else if (typeof v === 'number') {
    if (!Number.isFinite(v)) refuse(path, 'must be a number within the range of a double');
  } else if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) checkValues(v[i], `${path}/${i}`);
  } else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      const p = `${path}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      checkString(p, k);
      checkValues(x, p);
    }
  }
}

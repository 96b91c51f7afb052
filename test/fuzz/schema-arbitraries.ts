/**
 * fast-check arbitraries derived from the JSON schemas of the OpenAPI document: values a schema accepts, values it
 * refuses (one defect at a time, anywhere in the tree, so a refusal deep inside a valid body is exercised), and
 * hostile-but-valid strings. Hints name values that mean something in the fuzzed database (ids, display_ids,
 * statuses), so a valid body often reaches the core instead of failing the first lookup.
 */
import fc from 'fast-check';

export type Schema = Record<string, any>;
type Arb = fc.Arbitrary<unknown>;

export interface Hints {
  /** Values worth trying for a property or parameter of this name. */
  byName: Record<string, readonly string[]>;
  /** Known ids and keys of every kind, tried for any string. */
  anyKey: readonly string[];
  /** Whole values (objects, lists) that make sense for a property of this name: plausible requests use them. */
  values?: Record<string, readonly unknown[]>;
  /** Plausible requests: a named value almost always, schema-shaped noise and hostile strings rarely. */
  plausible?: boolean;
}

/** Past this depth a generated value stops growing: conditions alone nest 8 levels, each with up to 100 children. */
const MAX_DEPTH = 3;
/** Arrays in generated values: a few elements; the limits themselves are probed by `tooLong`. */
const MAX_ITEMS = 4;

/**
 * Strings that must be stored, searched or refused without a 5xx: SQL and markup, LIKE wildcards, unicode,
 * control characters, NUL and lone surrogates (refused by the body parser), and catastrophic regexes.
 */
export const HOSTILE_STRINGS: readonly string[] = [
  "'; drop table item; --",
  "' OR '1'='1",
  '%_\\',
  '<script>alert(1)</script>',
  '😀👍🏽👨‍👩‍👧',
  '中文 العربية',
  '\u200b\ufeff',
  '\u2028\u2029',
  'a\u0000b',
  '\ud800',
  '\udc00x',
  '\u0001\u001f\u007f',
  '(a+)+$',
  '^(a|aa)+$',
  '(.*a){20}',
  '[',
  'A|B|',
  '|',
  '\\',
  ' ',
  '',
  '0',
  '-1',
  '1e400',
  'NaN',
  'null',
  'true',
  '__proto__',
  'constructor',
  'toString',
  '..%2F..',
  '%00',
  'TODAY',
];

function lengthOk(s: Schema, v: string): boolean {
  return v.length >= (s.minLength ?? 0) && (s.maxLength === undefined || v.length <= s.maxLength);
}

/** `v` repeated up to the schema's minLength and cut at its maxLength, when that still matches `re`; else `v`. */
function fitLength(s: Schema, re: RegExp, v: string): string {
  if (lengthOk(s, v) || v.length === 0) return v;
  const min = s.minLength ?? 0;
  const stretched = v.repeat(Math.ceil(min / v.length)).slice(0, s.maxLength ?? Infinity);
  return lengthOk(s, stretched) && re.test(stretched) ? stretched : v;
}

function stringArb(s: Schema, h: Hints, name: string | undefined): Arb {
  const parts: fc.WeightedArbitrary<unknown>[] = [];
  const named = name ? h.byName[name] : undefined;
  if (named?.length) parts.push({ arbitrary: fc.constantFrom(...named), weight: h.plausible ? 40 : 6 });
  if (s.pattern) {
    const re = new RegExp(s.pattern);
    // Not .filter(lengthOk): fast-check retries a filter without bound, and stringMatching of `^[\x21-\x7e]+$`
    // almost never reaches a minLength of 16, so the run spun at 100% CPU. Stretch a short match instead; the rare
    // value that still misses is an invalid one, which the property accepts as well.
    parts.push({ arbitrary: fc.stringMatching(re).map((v) => fitLength(s, re, v)), weight: 3 });
    const fits = h.anyKey.filter((k) => re.test(k) && lengthOk(s, k));
    if (fits.length) parts.push({ arbitrary: fc.constantFrom(...fits), weight: 2 });
  } else if (s.format === 'date-time') {
    parts.push({
      arbitrary: fc
        .date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
        .map((d) => d.toISOString()),
      weight: 3,
    });
  } else {
    const max = Math.min(s.maxLength ?? 24, Math.max(24, s.minLength ?? 0));
    parts.push({ arbitrary: fc.string({ minLength: s.minLength ?? 0, maxLength: max, unit: 'grapheme' }), weight: 3 });
    parts.push({ arbitrary: fc.string({ minLength: s.minLength ?? 0, maxLength: max, unit: 'binary' }), weight: 1 });
    const hostile = HOSTILE_STRINGS.filter((v) => lengthOk(s, v));
    if (hostile.length) parts.push({ arbitrary: fc.constantFrom(...hostile), weight: 1 });
    const fits = h.anyKey.filter((k) => lengthOk(s, k));
    if (fits.length) parts.push({ arbitrary: fc.constantFrom(...fits), weight: 2 });
    if (s.maxLength !== undefined && s.maxLength <= 100_000) {
      parts.push({
        arbitrary: fc.constantFrom('a', 'é', '😀').map((c) => c.repeat(s.maxLength / c.length)),
        weight: 1,
      });
    }
  }
  return fc.oneof(...parts);
}

function bounds(s: Schema): { min: number; max: number } {
  const min = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum : -1e9);
  const max = s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum : 1e9);
  return { min, max };
}

function integerArb(s: Schema, h: Hints, name: string | undefined): Arb {
  const { min, max } = bounds(s);
  const lo = Math.max(Math.ceil(s.exclusiveMinimum !== undefined ? min + 1 : min), Number.MIN_SAFE_INTEGER);
  const hi = Math.min(Math.floor(s.exclusiveMaximum !== undefined ? max - 1 : max), Number.MAX_SAFE_INTEGER);
  if (s.multipleOf) {
    const m = s.multipleOf;
    return fc.integer({ min: Math.ceil(lo / m), max: Math.floor(Math.min(hi, lo + 1000 * m) / m) }).map((k) => k * m);
  }
  const named =
    (name ? h.byName[name] : undefined)?.map(Number).filter((n) => Number.isSafeInteger(n) && n >= lo && n <= hi) ?? [];
  return fc.oneof(
    {
      arbitrary: fc.integer({ min: Math.max(lo, -1000), max: Math.max(Math.min(hi, 1000), Math.max(lo, -1000)) }),
      weight: 4,
    },
    { arbitrary: fc.constantFrom(lo, hi), weight: 1 },
    { arbitrary: fc.integer({ min: Math.max(lo, -(2 ** 31)), max: Math.min(hi, 2 ** 31) }), weight: 1 },
    ...(named.length ? [{ arbitrary: fc.constantFrom(...named), weight: 4 }] : []),
  );
}

function numberArb(s: Schema): Arb {
  const { min, max } = bounds(s);
  const d = fc.double({
    min,
    max,
    noNaN: true,
    noDefaultInfinity: true,
    minExcluded: s.exclusiveMinimum !== undefined,
    maxExcluded: s.exclusiveMaximum !== undefined,
  });
  return fc.oneof(
    { arbitrary: d, weight: 3 },
    {
      arbitrary: fc
        .integer({ min: Math.ceil(Math.max(min, -1000)), max: Math.floor(Math.min(max, 1000)) })
        .filter((n) => n > (s.exclusiveMinimum ?? -Infinity)),
      weight: 2,
    },
  );
}

/** An object's optional keys come and go; an open record gets keys from the hints (field names, item ids). */
function objectArb(s: Schema, h: Hints, depth: number): Arb {
  const props: Record<string, Schema> = s.properties ?? {};
  const required: string[] = s.required ?? [];
  const keys = Object.keys(props).filter((k) => required.includes(k) || depth < MAX_DEPTH);
  const model: Record<string, Arb> = {};
  for (const k of keys) model[k] = valid(props[k]!, h, depth + 1, k);
  const base = fc.record(model, { requiredKeys: keys.filter((k) => required.includes(k)) });
  const extra = s.additionalProperties;
  if (extra && typeof extra === 'object' && Object.keys(props).length === 0) {
    const keyArb = fc.oneof(fc.constantFrom(...(h.byName['$recordKey'] ?? ['k'])), fc.string({ maxLength: 8 }));
    return fc.dictionary(keyArb, valid(extra, h, depth + 1, undefined), { maxKeys: depth < MAX_DEPTH ? 3 : 0 });
  }
  return base;
}

/** A value the schema accepts (up to the body parser's own refusals of NUL, lone surrogates and 1e400). */
export function valid(s: Schema, h: Hints, depth = 0, name?: string): Arb {
  const whole = h.plausible && name ? h.values?.[name] : undefined;
  if (whole?.length)
    return fc.oneof(
      { arbitrary: fc.constantFrom(...whole), weight: 3 },
      { arbitrary: valid(s, { ...h, values: {} }, depth, name), weight: 1 },
    );
  if (s.enum) return fc.constantFrom(...s.enum);
  if (s.const !== undefined) return fc.constant(s.const);
  const alts = s.anyOf ?? s.oneOf;
  if (alts) return fc.oneof(...alts.map((a: Schema) => valid({ ...a, description: undefined }, h, depth, name)));
  if (s.allOf) return valid(s.allOf[0], h, depth, name);
  switch (s.type) {
    case 'string':
      return stringArb(s, h, name);
    case 'integer':
      return integerArb(s, h, name);
    case 'number':
      return numberArb(s);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const minLength = s.minItems ?? 0;
      const maxLength =
        depth >= MAX_DEPTH ? minLength : Math.max(minLength, Math.min(s.maxItems ?? MAX_ITEMS, MAX_ITEMS));
      return fc.array(valid(s.items ?? {}, h, depth + 1, name), { minLength, maxLength });
    }
    case 'object':
      return objectArb(s, h, depth);
  }
  if (s.properties) return objectArb(s, h, depth);
  // Unknown: any JSON, kept small.
  return fc.jsonValue({ maxDepth: 2 });
}

const WRONG_TYPES: readonly unknown[] = ['x', '', 0, -1, 1.5, true, false, null, [], {}, [null], { a: 1 }];

function typesOf(s: Schema): Set<string> {
  const alts: Schema[] = s.anyOf ?? s.oneOf ?? [s];
  return new Set(alts.map((a) => (a.enum ? 'enum' : (a.type ?? 'any'))));
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** A value of a JSON type the schema does not take. */
function wrongType(s: Schema): Arb | null {
  const types = typesOf(s);
  if (types.has('any')) return null;
  const candidates = WRONG_TYPES.filter((v) => {
    const t = jsonType(v);
    return !types.has(t) && !(t === 'integer' && types.has('number')) && !(types.has('enum') && t === 'string');
  });
  return candidates.length ? fc.constantFrom(...candidates) : null;
}

/** Just past a limit: one character, item or unit too many; a fraction for an integer; far beyond a double. */
function pastLimit(s: Schema, h: Hints, depth: number): Arb[] {
  const out: Arb[] = [];
  if (s.type === 'string') {
    if (s.maxLength !== undefined && s.maxLength < 200_000) out.push(fc.constant('x'.repeat(s.maxLength + 1)));
    if (s.minLength) out.push(fc.constant(''));
    if (s.pattern) out.push(fc.constantFrom('', ' ', 'abc', '1 2', '-1', '١٢٣', '1'.repeat(21)));
    if (s.format === 'date-time')
      out.push(fc.constantFrom('2020-13-01T00:00:00Z', 'yesterday', '2020-01-01', '+275760-09-13T00:00:00.001Z'));
    if (s.enum) out.push(fc.constantFrom('', 'bogus', String(s.enum[0]).toUpperCase()));
  }
  if (s.type === 'integer' || s.type === 'number') {
    const { min, max } = bounds(s);
    if (s.maximum !== undefined || s.exclusiveMaximum !== undefined) out.push(fc.constant(max + 1));
    if (s.minimum !== undefined || s.exclusiveMinimum !== undefined) out.push(fc.constant(min - 1));
    if (s.type === 'integer') out.push(fc.constantFrom(0.5, 1e21, -0.000001));
    out.push(fc.constantFrom(Number.MAX_VALUE, -Number.MAX_VALUE, 5e-324));
  }
  if (s.type === 'array') {
    if (s.maxItems !== undefined && s.maxItems <= 10_000) {
      out.push(valid(s.items ?? {}, h, MAX_DEPTH).map((v) => Array.from({ length: s.maxItems + 1 }, () => v)));
    }
    if (s.minItems) out.push(fc.constant([]));
  }
  if (s.type === 'object' && s.additionalProperties === undefined && s.properties) {
    // additionalProperties false or open: an unknown key either way (open objects must ignore it).
    out.push(valid(s, h, depth).map((o) => (o && typeof o === 'object' ? { ...o, ['x_' + 'unknown']: 1 } : o)));
  }
  return out;
}

/**
 * A value with one defect, anywhere: the wrong type, past a limit, a required key missing, an unknown key, or a
 * child with one of these. Some values drawn here are still valid (an unknown key where the schema is open; a
 * wrong type inside an `unknown`): the property only asserts "no 5xx, envelope, no change when refused".
 */
export function invalid(s: Schema, h: Hints, depth = 0, name?: string): Arb {
  const alts = s.anyOf ?? s.oneOf;
  const wrong = wrongType(s);
  const options: Arb[] = [...(wrong ? [wrong] : []), ...pastLimit(s, h, depth)];
  if (alts && depth < MAX_DEPTH) options.push(fc.oneof(...alts.map((a: Schema) => invalid(a, h, depth, name))));
  if (s.type === 'object' || s.properties) {
    const props: Record<string, Schema> = s.properties ?? {};
    const required: string[] = s.required ?? [];
    for (const k of required) {
      options.push(
        valid(s, h, depth).map((o) => {
          const c = { ...(o as object) } as Record<string, unknown>;
          delete c[k];
          return c;
        }),
      );
    }
    if (depth < MAX_DEPTH) {
      for (const [k, p] of Object.entries(props)) {
        options.push(
          fc.tuple(valid(s, h, depth), invalid(p, h, depth + 1, k)).map(([o, bad]) => ({ ...(o as object), [k]: bad })),
        );
      }
    }
  }
  if (s.type === 'array' && s.items && depth < MAX_DEPTH) {
    options.push(
      fc.tuple(valid(s, h, depth, name), invalid(s.items, h, depth + 1, name), fc.nat()).map(([arr, bad, i]) => {
        const a = [...(arr as unknown[])];
        a.splice(a.length ? i % (a.length + 1) : 0, 0, bad);
        return a;
      }),
    );
  }
  return options.length ? fc.oneof(...options) : fc.constant(null);
}

/** Nesting far past the parser's limit (64). */
export function deepJson(levels: number): string {
  return `${'['.repeat(levels)}1${']'.repeat(levels)}`;
}

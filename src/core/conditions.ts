/**
 * The Hexabase search-condition language (the Hexabase API documentation (apidoc.hexabase.com)) compiled to one SQL predicate on the item
 * table, for both dialects. Nothing is filtered in memory: search, bulk targets and counts all run this SQL.
 * Exact text and select values, number ranges and lists, and date ranges are looked up in the typed index tables
 * (src/db/item-index.ts); substrings, users and blanks read the item's own JSON within the datastore.
 *
 * Semantics kept from Hexabase: `search_value` is always an array; text matches as a substring unless
 * `exact_match`, where several values OR together; `"A|B"` ORs substrings (the one regex form accepted:
 * arbitrary patterns would hand every caller a ReDoS lever on SQLite); numbers and dates take `[from, to]`,
 * inclusive, `null` for an open end (with `exact_match` a number condition is a list of values); `not_match`
 * negates; `include_null` adds (true) or removes (false) blanks; nested `conditions` combine with
 * `use_or_condition`. The status is addressed as `status`, by its display_id, name or id.
 *
 * The same request selects the same items on SQLite and PostgreSQL:
 * - substring matches fold case for ASCII letters only (what SQLite's LIKE can do; PostgreSQL's ILIKE is
 *   pinned to the "C" collation) and treat `%`, `_` and `\` as ordinary characters;
 * - a blank is an absent or null value, or `""` for text and select fields, or `[]` for a users field; a blank
 *   never matches a condition, so `not_match` selects it unless `include_null: false`;
 * - sorting puts blanks last in both directions and orders text by code point, whatever the collation.
 */
import { sql, type RawBuilder } from 'kysely';
import { fail } from '../errors.ts';
import type { Capabilities } from '../db/capabilities.ts';
import { INDEX_TABLES, INDEXED_TEXT_CHARS, indexedPrefix, type IndexKind } from '../db/item-index.ts';
import type { Datastore } from './datastore-model.ts';
import { isValidDate, normalizeDatetime, type FieldDef } from './field-values.ts';

export type SearchValue = string | number | boolean | null;

export interface Condition {
  id?: string;
  search_value?: SearchValue[];
  exact_match?: boolean;
  not_match?: boolean;
  include_null?: boolean;
  conditions?: Condition[];
  use_or_condition?: boolean;
}

export const MAX_CONDITION_DEPTH = 8;
export const MAX_CONDITIONS = 200;
export const MAX_SEARCH_VALUES = 1000;
/**
 * Bound values in one search, `"A|B"` alternatives included: keeps a statement far below SQLite's 32766
 * parameters, so a large search is refused the same way on both databases instead of failing on one.
 */
export const MAX_TOTAL_SEARCH_VALUES = 10_000;
/**
 * Budgets of substring patterns (text conditions without `exact_match`, each `"A|B"` alternative counted):
 * matching one costs up to its length times the text's at every row (a 255-character pattern against 64 KiB
 * took ~30 ms per row on both databases), so these bound the work per row by design, and the request's query
 * time limit (src/db/query-limits.ts) bounds the rows. Exact matches are equality tests and not counted.
 */
export const MAX_PATTERN_BYTES = 256;
export const MAX_CONDITION_PATTERNS = 32;
export const MAX_TEXT_PATTERNS = 64;
export const MAX_TOTAL_PATTERN_BYTES = 2048;

type Pred = RawBuilder<boolean>;

const TRUE: Pred = sql<boolean>`1 = 1`;
const FALSE: Pred = sql<boolean>`1 = 0`;

/** Terms per flat `and`/`or` run; longer lists nest, so no run comes near SQLite's expression depth of 1000. */
const JOIN_FANOUT = 16;

function invalid(message: string): never {
  fail('INVALID_CONDITION', message);
}

function join(preds: Pred[], op: 'and' | 'or'): Pred {
  if (preds.length === 0) return op === 'and' ? TRUE : FALSE;
  if (preds.length === 1) return preds[0]!;
  if (preds.length > JOIN_FANOUT) {
    const runs: Pred[] = [];
    for (let i = 0; i < preds.length; i += JOIN_FANOUT) runs.push(join(preds.slice(i, i + JOIN_FANOUT), op));
    return join(runs, op);
  }
  return sql<boolean>`(${sql.join(preds, sql.raw(` ${op} `))})`;
}

/** NOT that treats unknown (a comparison with a blank) as "does not match", so the negation selects it. */
function not(pred: Pred): Pred {
  return sql<boolean>`not coalesce(${pred}, ${FALSE})`;
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function asString(v: SearchValue, key: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  invalid(`Condition "${key}": search_value elements must be strings or numbers.`);
}

/** Decimal notation only: `Number()` alone would also take "0x10", "0b1" and "Infinity". */
const NUMBER_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

function asNumber(v: SearchValue, key: string): number | null {
  if (v === null) return null;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string') {
    const s = v.trim();
    if (s === '') return null;
    const n = NUMBER_RE.test(s) ? Number(s) : NaN;
    if (Number.isFinite(n)) return n;
  }
  invalid(`Condition "${key}": ${JSON.stringify(v)} is not a number.`);
}

function todayUtc(now: number): string {
  return new Date(now).toISOString().slice(0, 10);
}

/** A date or datetime bound as the stored text form; a bare date widens to the start or end of that day. */
function timeBound(v: SearchValue, end: boolean, key: string, now: number, dateOnly: boolean): string | null {
  if (v === null || v === '') return null;
  if (typeof v !== 'string') invalid(`Condition "${key}": date bounds must be strings.`);
  const s = v.toUpperCase() === 'TODAY' ? todayUtc(now) : v;
  if (isValidDate(s)) {
    if (dateOnly) return s;
    return `${s}T${end ? '23:59:59.999' : '00:00:00.000'}Z`;
  }
  const dt = normalizeDatetime(s);
  if (dt === null) invalid(`Condition "${key}": ${JSON.stringify(v)} is not an ISO-8601 date or datetime.`);
  return dateOnly ? dt.slice(0, 10) : dt;
}

function range(expr: RawBuilder<unknown>, from: unknown, to: unknown): Pred {
  const parts: Pred[] = [];
  if (from !== null) parts.push(sql<boolean>`${expr} >= ${from}`);
  if (to !== null) parts.push(sql<boolean>`${expr} <= ${to}`);
  if (parts.length === 0) return sql<boolean>`${expr} is not null`;
  return join(parts, 'and');
}

function requireRange(values: SearchValue[], key: string): [SearchValue, SearchValue] {
  if (values.length !== 2) invalid(`Condition "${key}": a range is [from, to] (use null for an open end).`);
  return [values[0]!, values[1]!];
}

function inList(expr: RawBuilder<unknown>, values: unknown[]): Pred {
  return values.length ? sql<boolean>`${expr} in (${sql.join(values)})` : FALSE;
}

interface Compiler {
  caps: Capabilities;
  ds: Datastore;
  now: number;
  /** Conditions seen so far, groups included. */
  count: number;
  /** Values bound so far. */
  values: number;
  /** Substring patterns so far, and their UTF-8 bytes. */
  patterns: number;
  patternBytes: number;
}

function spend(c: Compiler, n: number): void {
  c.values += n;
  if (c.values > MAX_TOTAL_SEARCH_VALUES) invalid(`At most ${MAX_TOTAL_SEARCH_VALUES} search values in one search.`);
}

function budgetPatterns(c: Compiler, patterns: string[], key: string): void {
  if (patterns.length > MAX_CONDITION_PATTERNS)
    invalid(`Condition "${key}": at most ${MAX_CONDITION_PATTERNS} substring patterns ("|" alternatives included).`);
  c.patterns += patterns.length;
  if (c.patterns > MAX_TEXT_PATTERNS)
    invalid(`At most ${MAX_TEXT_PATTERNS} substring patterns in one search ("|" alternatives included).`);
  for (const p of patterns) {
    const bytes = Buffer.byteLength(p);
    if (bytes > MAX_PATTERN_BYTES)
      invalid(`Condition "${key}": a substring pattern is at most ${MAX_PATTERN_BYTES} bytes.`);
    c.patternBytes += bytes;
  }
  if (c.patternBytes > MAX_TOTAL_PATTERN_BYTES)
    invalid(`At most ${MAX_TOTAL_PATTERN_BYTES} bytes of substring patterns in one search.`);
}

function textMatch(c: Compiler, expr: RawBuilder<unknown>, values: SearchValue[], exact: boolean, key: string): Pred {
  const strings = values.map((v) => asString(v, key));
  if (exact) return inList(expr, strings);
  const alternatives = strings.flatMap((s) => s.split('|')).filter((s) => s !== '');
  spend(c, Math.max(0, alternatives.length - strings.length));
  budgetPatterns(c, alternatives, key);
  if (alternatives.length === 0) return sql<boolean>`${expr} is not null`;
  return join(
    alternatives.map((s) => c.caps.ilike(expr, `%${escapeLike(s)}%`)),
    'or',
  );
}

/** Numbers: `[from, to]`, or with `exact_match` any list of values. `param` wraps each bound value. */
function numberMatch(
  expr: RawBuilder<unknown>,
  values: SearchValue[],
  exact: boolean,
  key: string,
  param: (n: number) => unknown = (n) => n,
): Pred {
  if (exact) {
    const nums = values.map((v) => asNumber(v, key)).filter((n): n is number => n !== null);
    return inList(expr, nums.map(param));
  }
  const [from, to] = requireRange(values, key);
  const bound = (v: SearchValue) => {
    const n = asNumber(v, key);
    return n === null ? null : param(n);
  };
  return range(expr, bound(from), bound(to));
}

/** What a leaf condition tests: the expression, what counts as blank, and how values match. */
interface Subject {
  expr: RawBuilder<unknown>;
  /** Blank beyond SQL null, e.g. `''` for text. */
  blankValue?: string;
  match(values: SearchValue[]): Pred;
}

/**
 * `item.id in (…)`: the items whose value of `field` in the typed index table of `kind` passes `test` (a range
 * scan of its primary key, datastore_id and field_id first), instead of reading every item's JSON.
 */
function indexed(c: Compiler, field: FieldDef, kind: IndexKind, test: (value: RawBuilder<unknown>) => Pred): Pred {
  return sql<boolean>`item.id in (select x.item_id from ${sql.table(INDEX_TABLES[kind])} x where x.datastore_id = ${sql.lit(c.ds.id)} and x.field_id = ${sql.lit(field.id)} and ${test(sql.ref('x.value'))})`;
}

/** Exact text values through the index; one at least as long as the indexed prefix is rechecked on the item's own value. */
function exactText(c: Compiler, field: FieldDef, expr: RawBuilder<unknown>, values: SearchValue[]): Pred {
  const strings = values.map((v) => asString(v, field.display_id));
  if (strings.length === 0) return FALSE;
  // UTF-16 length ≥ characters, so a shorter string is never cut: its index row is the whole value.
  const cut = (s: string) => s.length >= INDEXED_TEXT_CHARS;
  const pred = indexed(c, field, 'text', (v) =>
    inList(
      v,
      strings.map((s) => (cut(s) ? indexedPrefix(c.caps.dialect, s) : s)),
    ),
  );
  return strings.some(cut) ? join([pred, inList(expr, strings)], 'and') : pred;
}

function fieldSubject(c: Compiler, field: FieldDef, exact: boolean): Subject {
  const key = field.display_id;
  switch (field.type) {
    case 'text':
    case 'select': {
      const expr = c.caps.jsonText('fields', key);
      // Substrings scan the datastore's own items' JSON: an index of prefixes cannot answer them.
      const match = (values: SearchValue[]) =>
        exact || field.type === 'select' ? exactText(c, field, expr, values) : textMatch(c, expr, values, false, key);
      return { expr, blankValue: '', match };
    }
    case 'number': {
      const expr = c.caps.jsonNumber('fields', key);
      return { expr, match: (values) => indexed(c, field, 'num', (v) => numberMatch(v, values, exact, key)) };
    }
    case 'date':
    case 'datetime': {
      const expr = c.caps.jsonText('fields', key);
      const dateOnly = field.type === 'date';
      return {
        expr,
        match: (values) => {
          const [from, to] = requireRange(values, key);
          const bounds = [
            timeBound(from, false, key, c.now, dateOnly),
            timeBound(to, true, key, c.now, dateOnly),
          ] as const;
          return indexed(c, field, 'text', (v) => range(v, ...bounds));
        },
      };
    }
    case 'users': {
      const expr = c.caps.jsonText('fields', key);
      return {
        expr,
        blankValue: '[]',
        match: (values) =>
          c.caps.jsonArrayHasAny(
            'fields',
            key,
            values.map((v) => asString(v, key)),
          ),
      };
    }
    case 'json':
      invalid(`Field "${key}" holds JSON and cannot be searched.`);
  }
}

function subject(c: Compiler, key: string, exact: boolean): Subject {
  switch (key) {
    case 'i_id':
    case 'id': {
      const expr = sql.ref('item.id');
      return {
        expr,
        match: (values) =>
          inList(
            expr,
            values.map((v) => asString(v, key)),
          ),
      };
    }
    case 'title': {
      const expr = sql.ref('item.title');
      return { expr, blankValue: '', match: (values) => textMatch(c, expr, values, exact, key) };
    }
    case 'status':
    case 'status_id': {
      const expr = sql.ref('item.status_id');
      const statusId = (v: SearchValue) => {
        const s = c.ds.statusByKey.get(asString(v, key));
        if (!s) invalid(`Condition "${key}": ${JSON.stringify(v)} is not a status of this datastore.`);
        return s.id;
      };
      return { expr, match: (values) => inList(expr, values.map(statusId)) };
    }
    case 'created_by':
    case 'updated_by': {
      const expr = sql.ref(`item.${key}`);
      return {
        expr,
        match: (values) =>
          inList(
            expr,
            values.map((v) => asString(v, key)),
          ),
      };
    }
    case 'created_at':
    case 'updated_at': {
      const expr = sql.ref(`item.${key}`);
      const ms = (v: SearchValue, end: boolean) => {
        const b = timeBound(v, end, key, c.now, false);
        return b === null ? null : Date.parse(b);
      };
      return {
        expr,
        match: (values) => {
          const [from, to] = requireRange(values, key);
          return range(expr, ms(from, false), ms(to, true));
        },
      };
    }
    case 'rev_no': {
      const expr = sql.ref('item.rev_no');
      // An integer column: PostgreSQL would type a bare parameter as integer and fail on "1.5".
      return { expr, match: (values) => numberMatch(expr, values, exact, key, (n) => sql`cast(${n} as numeric)`) };
    }
  }
  const field = c.ds.fieldByKey.get(key);
  if (!field) invalid(`Condition "${key}": no such field in datastore "${c.ds.display_id}".`);
  return fieldSubject(c, field, exact);
}

function leaf(c: Compiler, cond: Condition): Pred {
  const key = cond.id;
  if (!key) invalid('A condition needs an id or nested conditions.');
  const values = cond.search_value ?? [];
  if (values.length > MAX_SEARCH_VALUES) invalid(`Condition "${key}": at most ${MAX_SEARCH_VALUES} search values.`);
  spend(c, values.length);
  const { expr, blankValue, match } = subject(c, key, cond.exact_match === true);
  let pred: Pred;
  if (values.length > 0) pred = match(values);
  else if (cond.include_null === true)
    pred = FALSE; // blanks only
  else invalid(`Condition "${key}": search_value is empty.`);
  if (cond.not_match) pred = not(pred);
  const blank =
    blankValue === undefined
      ? sql<boolean>`${expr} is null`
      : sql<boolean>`(${expr} is null or ${expr} = ${blankValue})`;
  if (cond.include_null === true) pred = join([pred, blank], 'or');
  if (cond.include_null === false) pred = join([pred, sql<boolean>`not ${blank}`], 'and');
  return pred;
}

function group(c: Compiler, conditions: Condition[], useOr: boolean, depth: number): Pred {
  if (depth > MAX_CONDITION_DEPTH) invalid(`Conditions nest at most ${MAX_CONDITION_DEPTH} levels deep.`);
  const preds = conditions.map((cond) => {
    if (++c.count > MAX_CONDITIONS) invalid(`At most ${MAX_CONDITIONS} conditions in one search.`);
    if (cond.conditions && cond.conditions.length > 0) {
      // Silently dropping the id half would widen a bulk operation's target set.
      if (cond.id !== undefined || cond.search_value !== undefined) {
        invalid('A condition has either an id and search_value, or nested conditions, not both.');
      }
      const p = group(c, cond.conditions, cond.use_or_condition === true, depth + 1);
      return cond.not_match ? not(p) : p;
    }
    return leaf(c, cond);
  });
  return join(preds, useOr ? 'or' : 'and');
}

/** Compiles conditions to a predicate on `item` (alias `item`). Throws INVALID_CONDITION on bad input. */
export function compileConditions(
  caps: Capabilities,
  ds: Datastore,
  conditions: Condition[] | undefined,
  useOr = false,
  now = Date.now(),
): Pred {
  if (!conditions || conditions.length === 0) return TRUE;
  const pred = group({ caps, ds, now, count: 0, values: 0, patterns: 0, patternBytes: 0 }, conditions, useOr, 1);
  // First, so it runs for every row scanned whatever the rest decides (src/db/query-limits.ts).
  const alive = caps.deadlineCheck(sql.ref('item.id'));
  return alive ? join([alive, pred], 'and') : pred;
}

/**
 * Sort keys for an item property or field, for `ORDER BY <keys> <direction>`: a nullable value comes as two
 * keys, `value is null` then the value, so blanks sort last in both directions on both databases (their own
 * null orders differ). Text sorts by code point.
 */
export function sortExpression(caps: Capabilities, ds: Datastore, key: string): RawBuilder<unknown> {
  switch (key) {
    case 'i_id':
    case 'id':
      return sql.ref('item.id');
    case 'title':
      return caps.codePointOrder(sql.ref('item.title'));
    case 'rev_no':
    case 'created_at':
    case 'updated_at':
      return sql.ref(`item.${key}`);
    case 'created_by':
    case 'updated_by':
      return nullsLast(sql.ref(`item.${key}`));
    case 'status':
    case 'status_id':
      return sql.ref('item.status_id');
  }
  const field = ds.fieldByKey.get(key);
  if (!field || field.type === 'json' || field.type === 'users') invalid(`Cannot sort by "${key}".`);
  return nullsLast(
    field.type === 'number'
      ? caps.jsonNumber('fields', field.display_id)
      : caps.codePointOrder(caps.jsonText('fields', field.display_id)),
  );
}

function nullsLast(expr: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`${expr} is null, ${expr}`;
}

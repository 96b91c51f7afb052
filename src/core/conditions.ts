/**
 * The Hexabase search-condition language (reference/hexabase.md A1) compiled to one SQL predicate on the item
 * table, for both dialects. Nothing is filtered in memory: search, bulk targets and counts all run this SQL.
 *
 * Semantics kept from Hexabase: `search_value` is always an array; text matches as a substring unless
 * `exact_match`, where several values OR together; `"A|B"` ORs substrings (the one regex form accepted:
 * arbitrary patterns would hand every caller a ReDoS lever on SQLite); numbers and dates take `[from, to]`,
 * inclusive, `null` for an open end; `not_match` negates; `include_null` adds (true) or removes (false)
 * blanks; nested `conditions` combine with `use_or_condition`. The status is addressed as `status`, by its
 * display_id, name or id.
 */
import { sql, type RawBuilder } from 'kysely';
import { fail } from '../errors.ts';
import type { Capabilities } from '../db/capabilities.ts';
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

type Pred = RawBuilder<boolean>;

const TRUE: Pred = sql<boolean>`1 = 1`;
const FALSE: Pred = sql<boolean>`1 = 0`;

function invalid(message: string): never {
  fail('INVALID_CONDITION', message);
}

function join(preds: Pred[], op: 'and' | 'or'): Pred {
  if (preds.length === 0) return op === 'and' ? TRUE : FALSE;
  if (preds.length === 1) return preds[0]!;
  return sql<boolean>`(${sql.join(preds, sql.raw(` ${op} `))})`;
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function asString(v: SearchValue, key: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  invalid(`Condition "${key}": search_value elements must be strings or numbers.`);
}

function asNumber(v: SearchValue, key: string): number | null {
  if (v === null || v === '') return null;
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n)) invalid(`Condition "${key}": ${JSON.stringify(v)} is not a number.`);
  return n;
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

function range<T>(expr: RawBuilder<unknown>, from: T | null, to: T | null): Pred {
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

function textMatch(caps: Capabilities, expr: RawBuilder<unknown>, values: SearchValue[], exact: boolean, key: string): Pred {
  const strings = values.map((v) => asString(v, key));
  if (exact) return sql<boolean>`${expr} in (${sql.join(strings)})`;
  const alternatives = strings.flatMap((s) => s.split('|')).filter((s) => s !== '');
  if (alternatives.length === 0) return sql<boolean>`${expr} is not null`;
  return join(alternatives.map((s) => caps.ilike(expr, `%${escapeLike(s)}%`)), 'or');
}

interface Compiler {
  caps: Capabilities;
  ds: Datastore;
  now: number;
  count: number;
}

function fieldPredicate(c: Compiler, field: FieldDef, values: SearchValue[], exact: boolean): { pred: Pred; expr: RawBuilder<unknown> } {
  const key = field.display_id;
  switch (field.type) {
    case 'text':
    case 'select': {
      const expr = c.caps.jsonText('fields', key);
      return { expr, pred: textMatch(c.caps, expr, values, exact || field.type === 'select', key) };
    }
    case 'number': {
      const expr = c.caps.jsonNumber('fields', key);
      if (exact || values.length !== 2) {
        const nums = values.map((v) => asNumber(v, key)).filter((n): n is number => n !== null);
        return { expr, pred: nums.length ? sql<boolean>`${expr} in (${sql.join(nums)})` : FALSE };
      }
      const [from, to] = requireRange(values, key);
      return { expr, pred: range(expr, asNumber(from, key), asNumber(to, key)) };
    }
    case 'date':
    case 'datetime': {
      const expr = c.caps.jsonText('fields', key);
      const dateOnly = field.type === 'date';
      const [from, to] = requireRange(values, key);
      return { expr, pred: range(expr, timeBound(from, false, key, c.now, dateOnly), timeBound(to, true, key, c.now, dateOnly)) };
    }
    case 'users': {
      const expr = c.caps.jsonText('fields', key);
      const ids = values.map((v) => asString(v, key));
      return { expr, pred: ids.length ? c.caps.jsonArrayHasAny('fields', key, ids) : FALSE };
    }
    case 'json':
      invalid(`Field "${key}" holds JSON and cannot be searched.`);
  }
}

function leaf(c: Compiler, cond: Condition): Pred {
  const key = cond.id;
  if (!key) invalid('A condition needs an id or nested conditions.');
  const values = cond.search_value ?? [];
  if (values.length > MAX_SEARCH_VALUES) invalid(`Condition "${key}": at most ${MAX_SEARCH_VALUES} search values.`);
  const exact = cond.exact_match === true;
  let pred: Pred;
  let expr: RawBuilder<unknown>;
  let blankable = false;
  switch (key) {
    case 'i_id':
    case 'id': {
      expr = sql.ref('item.id');
      pred = values.length ? sql<boolean>`${expr} in (${sql.join(values.map((v) => asString(v, key)))})` : FALSE;
      break;
    }
    case 'title':
      expr = sql.ref('item.title');
      pred = textMatch(c.caps, expr, values, exact, key);
      blankable = true;
      break;
    case 'status':
    case 'status_id': {
      expr = sql.ref('item.status_id');
      const ids = values.map((v) => {
        const s = c.ds.statusByKey.get(asString(v, key));
        if (!s) invalid(`Condition "status": ${JSON.stringify(v)} is not a status of this datastore.`);
        return s.id;
      });
      pred = ids.length ? sql<boolean>`${expr} in (${sql.join(ids)})` : FALSE;
      break;
    }
    case 'created_by':
    case 'updated_by':
      expr = sql.ref(`item.${key}`);
      pred = values.length ? sql<boolean>`${expr} in (${sql.join(values.map((v) => asString(v, key)))})` : FALSE;
      break;
    case 'created_at':
    case 'updated_at': {
      expr = sql.ref(`item.${key}`);
      const [from, to] = requireRange(values, key);
      const ms = (v: SearchValue, end: boolean) => {
        const b = timeBound(v, end, key, c.now, false);
        return b === null ? null : Date.parse(b);
      };
      pred = range(expr, ms(from, false), ms(to, true));
      break;
    }
    case 'rev_no': {
      expr = sql.ref('item.rev_no');
      const nums = values.map((v) => asNumber(v, key));
      pred = exact || nums.length !== 2 ? sql<boolean>`${expr} in (${sql.join(nums.filter((n) => n !== null))})` : range(expr, nums[0]!, nums[1]!);
      break;
    }
    default: {
      const field = c.ds.fieldByKey.get(key);
      if (!field) invalid(`Condition "${key}": no such field in datastore "${c.ds.display_id}".`);
      ({ pred, expr } = fieldPredicate(c, field, values, exact));
      blankable = field.type === 'text' || field.type === 'select';
    }
  }
  if (values.length === 0) {
    if (cond.include_null !== true) invalid(`Condition "${key}": search_value is empty.`);
    pred = FALSE;
  }
  if (cond.not_match) pred = sql<boolean>`not coalesce(${pred}, ${FALSE})`;
  const blank = blankable ? sql<boolean>`(${expr} is null or ${expr} = '')` : sql<boolean>`${expr} is null`;
  if (cond.include_null === true) pred = join([pred, blank], 'or');
  if (cond.include_null === false) pred = join([pred, sql<boolean>`not ${blank}`], 'and');
  return pred;
}

function group(c: Compiler, conditions: Condition[], useOr: boolean, depth: number): Pred {
  if (depth > MAX_CONDITION_DEPTH) invalid(`Conditions nest at most ${MAX_CONDITION_DEPTH} levels deep.`);
  const preds = conditions.map((cond) => {
    if (++c.count > MAX_CONDITIONS) invalid(`At most ${MAX_CONDITIONS} conditions in one search.`);
    if (cond.conditions && cond.conditions.length > 0) {
      let p = group(c, cond.conditions, cond.use_or_condition === true, depth + 1);
      if (cond.not_match) p = sql<boolean>`not ${p}`;
      return p;
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
  return group({ caps, ds, now, count: 0 }, conditions, useOr, 1);
}

/** Expression for sorting by an item property or field. */
export function sortExpression(caps: Capabilities, ds: Datastore, key: string): RawBuilder<unknown> {
  switch (key) {
    case 'i_id':
    case 'id':
      return sql.ref('item.id');
    case 'title':
    case 'rev_no':
    case 'created_at':
    case 'updated_at':
    case 'created_by':
    case 'updated_by':
      return sql.ref(`item.${key}`);
    case 'status':
    case 'status_id':
      return sql.ref('item.status_id');
  }
  const field = ds.fieldByKey.get(key);
  if (!field || field.type === 'json' || field.type === 'users') invalid(`Cannot sort by "${key}".`);
  return field.type === 'number' ? caps.jsonNumber('fields', field.display_id) : caps.jsonText('fields', field.display_id);
}

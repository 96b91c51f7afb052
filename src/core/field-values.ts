import { fail } from '../errors.ts';

export const FIELD_TYPES = Object.freeze(['text', 'number', 'date', 'datetime', 'select', 'users', 'json'] as const);
export type FieldType = (typeof FIELD_TYPES)[number];

export interface FieldDef {
  id: string;
  display_id: string;
  name: string;
  type: FieldType;
  /** Allowed values of a `select` field. */
  options: string[] | null;
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const DATETIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;
const MAX_TEXT = 65_536;

export function isValidDate(s: string): boolean {
  if (!DATE_RE.test(s)) return false;
  const d = new Date(`${s}T00:00:00.000Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s);
}

/**
 * Datetimes are stored as UTC ISO-8601 with milliseconds, so text order is time order in both databases.
 * One whose UTC year leaves 0000-9999 (an offset can push 9999-12-31 over) is refused: toISOString would
 * write it as `+010000-…`, which sorts before every other year.
 */
export function normalizeDatetime(s: string): string | null {
  if (!DATETIME_RE.test(s)) return null;
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return null;
  const iso = d.toISOString();
  return iso.length === 24 ? iso : null;
}

function bad(field: FieldDef, expected: string): never {
  fail('INVALID_FIELD_VALUE', `Field "${field.display_id}" expects ${expected}.`, { field: field.display_id });
}

/** Checks one value against its field type and returns the stored form. Wrong JSON types are refused. */
export function normalizeFieldValue(field: FieldDef, value: unknown): unknown {
  if (value === null) return null;
  switch (field.type) {
    case 'text':
      if (typeof value !== 'string' || value.length > MAX_TEXT)
        bad(field, `a string of at most ${MAX_TEXT} characters`);
      return value;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) bad(field, 'a finite number');
      return value;
    case 'date':
      if (typeof value !== 'string' || !isValidDate(value)) bad(field, 'a date YYYY-MM-DD');
      return value;
    case 'datetime': {
      const v = typeof value === 'string' ? normalizeDatetime(value) : null;
      if (v === null) bad(field, 'an ISO-8601 datetime with a time zone');
      return v;
    }
    case 'select':
      if (typeof value !== 'string') bad(field, 'a string');
      if (field.options && !field.options.includes(value)) bad(field, `one of ${field.options.join(', ')}`);
      return value;
    case 'users':
      if (
        !Array.isArray(value) ||
        value.length > 1000 ||
        !value.every((v) => typeof v === 'string' && /^\d{1,20}$/.test(v))
      ) {
        bad(field, 'an array of user ids');
      }
      return value;
    case 'json':
      return value;
  }
}

/**
 * Validates a `{display_id: value}` map against the datastore's fields. Unknown keys are refused: a typo in a
 * bulk update must not silently write nothing.
 */
export function normalizeFieldValues(
  fieldsByKey: ReadonlyMap<string, FieldDef>,
  input: Record<string, unknown> | undefined | null,
): Record<string, unknown> {
  // Keys come from user input: in a null-prototype object "__proto__" is a key like any other.
  const out: Record<string, unknown> = Object.create(null);
  if (!input) return out;
  for (const [key, value] of Object.entries(input)) {
    const field = fieldsByKey.get(key);
    if (!field) fail('UNKNOWN_FIELD', `Unknown field "${key}".`, { field: key });
    out[field.display_id] = normalizeFieldValue(field, value);
  }
  return out;
}

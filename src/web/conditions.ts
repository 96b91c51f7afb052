/**
 * The condition builder's model: what can be searched in a datastore, the operators that fit each kind of value,
 * and the one search-language condition (docs/api.md: Concepts → Conditions) a row of the builder stands for.
 * No DOM here, so the mapping is easy to read against the API.
 */
import type { Condition, Datastore } from './types.ts';

export type Kind = 'text' | 'select' | 'status' | 'number' | 'date' | 'users';
export type Op = 'contains' | 'equals' | 'not' | 'blank' | 'between';

export interface Subject {
  /** The condition's `id`: status, title, created_at, updated_at or a field's display_id. */
  key: string;
  label: string;
  kind: Kind;
  /** Choices for a select field or the status: value sent, label shown. */
  options?: { value: string; label: string }[];
  /** Whether the value can be blank (created_at, updated_at and the status never are). */
  blankable: boolean;
}

export function subjects(ds: Datastore): Subject[] {
  const out: Subject[] = [
    {
      key: 'status',
      label: 'Status',
      kind: 'status',
      options: ds.statuses.map((s) => ({ value: s.display_id, label: s.name })),
      blankable: false,
    },
    { key: 'title', label: 'Title', kind: 'text', blankable: true },
    { key: 'created_at', label: 'Created', kind: 'date', blankable: false },
    { key: 'updated_at', label: 'Updated', kind: 'date', blankable: false },
  ];
  for (const f of ds.fields) {
    if (f.type === 'json') continue; // JSON fields cannot be searched
    const kind: Kind = f.type === 'datetime' ? 'date' : f.type;
    out.push({
      key: f.display_id,
      label: `${f.name} (${f.display_id})`,
      kind,
      ...(f.type === 'select' ? { options: (f.options ?? []).map((o) => ({ value: o, label: o })) } : {}),
      blankable: true,
    });
  }
  return out;
}

/** Operators offered for a subject, first one the default, with their labels. */
export function operators(s: Subject): { op: Op; label: string }[] {
  const blank = s.blankable ? [{ op: 'blank' as const, label: 'is blank' }] : [];
  switch (s.kind) {
    case 'text':
      return [
        { op: 'contains', label: 'contains' },
        { op: 'equals', label: 'equals' },
        { op: 'not', label: 'does not contain' },
        ...blank,
      ];
    case 'select':
    case 'status':
      return [{ op: 'equals', label: 'is' }, { op: 'not', label: 'is not' }, ...blank];
    case 'number':
      return [
        { op: 'between', label: 'between' },
        { op: 'equals', label: 'equals' },
        { op: 'not', label: 'does not equal' },
        ...blank,
      ];
    case 'date':
      return [{ op: 'between', label: 'between' }, { op: 'not', label: 'not between' }, ...blank];
    case 'users':
      return [{ op: 'equals', label: 'includes user' }, ...blank];
  }
}

/** For a date subject, `not` is "not between" and takes a range too. */
export function takesRange(s: Subject, op: Op): boolean {
  return op === 'between' || (op === 'not' && s.kind === 'date');
}

const NUMBER_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The condition for one builder row, or a message saying what is missing. */
export function buildCondition(s: Subject, op: Op, a: string, b: string): Condition | string {
  const id = s.key;
  const num = (v: string): number | null | string => {
    const t = v.trim();
    if (t === '') return null;
    return NUMBER_RE.test(t) ? Number(t) : `“${t}” is not a number.`;
  };
  if (op === 'blank') return { id, search_value: [], include_null: true };
  if (takesRange(s, op)) {
    let from: string | number | null;
    let to: string | number | null;
    if (s.kind === 'number') {
      const x = num(a);
      const y = num(b);
      if (typeof x === 'string') return x;
      if (typeof y === 'string') return y;
      [from, to] = [x, y];
    } else {
      [from, to] = [a.trim() || null, b.trim() || null];
    }
    if (from === null && to === null) return `${s.label}: give a “from” or a “to” value (or both).`;
    return { id, search_value: [from, to], ...(op === 'not' ? { not_match: true } : {}) };
  }
  const t = a.trim();
  if (t === '') return `${s.label}: enter a value.`;
  let value: string | number = t;
  if (s.kind === 'number') {
    const n = num(t);
    if (typeof n === 'string') return n;
    value = n as number;
  }
  if (op === 'contains') return { id, search_value: [value] };
  if (op === 'equals') return { id, search_value: [value], exact_match: true };
  // not: text negates the substring match; other kinds negate equality.
  return { id, search_value: [value], ...(s.kind === 'text' ? {} : { exact_match: true }), not_match: true };
}

import type { Datastore } from './api-types.ts';

type FieldType = Datastore['fields'][number]['type'];

/**
 * A CSV cell as a field value of its type: numbers as numbers, users as an array of ids (JSON, or separated
 * by commas or spaces), json as JSON, the rest as text. An empty cell is no value. Throws on a bad cell.
 */
export function cellToValue(type: FieldType, cell: string): unknown {
  if (cell === '') return undefined;
  switch (type) {
    case 'number': {
      const n = Number(cell.trim());
      if (cell.trim() === '' || !Number.isFinite(n)) throw new Error(`not a number: ${JSON.stringify(cell)}`);
      return n;
    }
    case 'users':
      return cell.trim().startsWith('[') ? JSON.parse(cell) : cell.split(/[\s,;]+/).filter(Boolean);
    case 'json':
      try {
        return JSON.parse(cell);
      } catch {
        throw new Error(`not JSON: ${JSON.stringify(cell.slice(0, 60))}`);
      }
    default:
      return cell;
  }
}

/** A field value as a CSV cell: the inverse of cellToValue. */
export function valueToCell(type: FieldType, value: unknown): string {
  if (value === null || value === undefined) return '';
  if (type === 'users' || type === 'json' || typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

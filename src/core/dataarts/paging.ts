/**
 * DataArts paging (the DataArts Studio API reference): `limit` 1–100, default 50; `offset` a skip count that must be a
 * multiple of `limit` and is otherwise rounded down to one, default 0.
 */
export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 100;

export function dataartsPage(limit: number | undefined, offset: number | undefined): { limit: number; offset: number } {
  const l = limit ?? DEFAULT_LIMIT;
  const o = offset ?? 0;
  return { limit: l, offset: o - (o % l) };
}

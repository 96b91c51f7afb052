/** Escapes LIKE wildcards so a user's text matches literally (the capabilities' ilike escapes with backslash). */
export function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Hexabase's text conditions are documented as regular expressions: the check that each one is a valid one. */
import type { Condition } from '../../core/conditions.ts';
import type { Datastore } from '../../core/datastore-model.ts';
import { fail } from '../../errors.ts';

/**
 * Characters of text search values compiled per request to check their syntax. Each value is at most 1000
 * characters (the schema), but a 16 MiB body holds ~16,000 of them, and compiling that many 1000-character
 * patterns (`((((…`) would hold the event loop for seconds; this budget keeps it to milliseconds. A search
 * needing more pattern text than this is not a search anyone writes.
 */
export const MAX_PATTERN_CHARS = 65_536;

/** Only a value using regex syntax beyond "|" can be an invalid pattern; plain text is never compiled. */
const REGEX_SYNTAX = /[\\^$.*+?()[\]{}]/;

/**
 * Hexabase documents a text `search_value` as a regular expression. batchgate matches it as a substring with
 * `"A|B"` alternation (src/core/conditions.ts) and never runs a pattern, so a catastrophic one (`(a+)+$`)
 * costs nothing; but a value that is not even a valid pattern is refused, so a client's typo is reported
 * instead of silently matching nothing. Checking means compiling (`new RegExp`, never executed): distinct
 * patterns only, at most MAX_PATTERN_CHARS characters of them per request (else INVALID_CONDITION).
 */
export function checkHexabaseConditions(ds: Datastore, conditions: Condition[] | undefined): void {
  checkPatterns(ds, conditions, { chars: 0, seen: new Set() });
}

function checkPatterns(
  ds: Datastore,
  conditions: Condition[] | undefined,
  budget: { chars: number; seen: Set<string> },
): void {
  for (const c of conditions ?? []) {
    if (c.conditions?.length) checkPatterns(ds, c.conditions, budget);
    if (!c.id || c.exact_match === true || !c.search_value) continue;
    const type = c.id === 'title' ? 'text' : ds.fieldByKey.get(c.id)?.type;
    if (type !== 'text') continue;
    for (const v of c.search_value) {
      if (typeof v !== 'string' || !REGEX_SYNTAX.test(v) || budget.seen.has(v)) continue;
      budget.seen.add(v);
      budget.chars += v.length;
      if (budget.chars > MAX_PATTERN_CHARS)
        fail(
          'INVALID_CONDITION',
          `Text search values using regular-expression syntax total more than ${MAX_PATTERN_CHARS} characters.`,
        );
      try {
        new RegExp(v);
      } catch {
        fail('INVALID_CONDITION', `Condition "${c.id}": ${JSON.stringify(v)} is not a valid regular expression.`);
      }
    }
  }
}

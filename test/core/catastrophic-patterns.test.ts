/**
 * User patterns cannot stall the service. src/core/conditions.ts never executes a search value as a regular
 * expression ("A|B" is split into substrings, matched in SQL), and src/api/hexabase/check-conditions.ts only compiles Hexabase
 * text values to refuse invalid ones, within a budget. So catastrophic-backtracking patterns (which a
 * backtracking engine would take longer than the age of the universe to run against these values) answer at
 * once, with the documented semantics, through every door that takes conditions.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { MAX_CONDITION_PATTERNS, MAX_PATTERN_BYTES, MAX_TOTAL_PATTERN_BYTES } from '../../src/core/conditions.ts';
import { MAX_PATTERN_CHARS } from '../../src/api/hexabase/check-conditions.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { PURCHASE_DS, startTestService, type Client, type Res, type TestService } from '../helpers/service.ts';

/**
 * No clock threshold: a backtracking engine would not return at all, which the suite's bound turns into a failure,
 * and a slow one would meet the request's query time limit and answer 503, which the status checks catch.
 */
const SUITE_TIMEOUT_MS = 300_000;

const PATTERNS = [
  '(a+)+$',
  '^(a|aa)+$',
  '(.*a){20}',
  '(a|a?)+$',
  '(x+x+)+y',
  '^(([a-z])+.)+[A-Z]([a-z])+$',
  '(?:a+){10}b',
  '(a*)*b|(a+)+c',
  `${'a'.repeat(40)}!`,
];

/** Long runs of "a" with a mismatch at the end, and items holding some patterns as literal text. */
const VENDORS: Record<string, string> = {
  run30: `${'a'.repeat(30)}!`,
  run1k: `${'a'.repeat(1_000)}!`,
  run64k: `${'a'.repeat(65_535)}!`,
  literal1: 'x (a+)+$ y',
  literal2: 'see (.*a){20} here',
  literal3: '(a|a?)+$',
  other: 'Acme',
};

/** The documented semantics: a case-insensitive (ASCII) substring match of any "|"-separated alternative. */
function matches(text: string, pattern: string): boolean {
  const alternatives = pattern.split('|').filter((a) => a !== '');
  return alternatives.length === 0 ? true : alternatives.some((a) => text.toLowerCase().includes(a.toLowerCase()));
}

describeEachDialect(
  'catastrophic-backtracking patterns',
  (dialect) => {
    let s: TestService;
    let api: Client;
    let W: string;
    const idOf = new Map<string, string>();
    const titleOf = new Map<string, string>();

    async function answered<T = any>(p: () => Promise<Res<T>>, what: string): Promise<Res<T>> {
      const r = await p();
      assert.ok(r.status < 500, `${what}: ${r.status}`);
      return r;
    }
    const expected = (pattern: string) =>
      Object.keys(VENDORS)
        .filter((k) => matches(VENDORS[k]!, pattern))
        .map((k) => idOf.get(k)!)
        .sort();
    const cond = (pattern: string) => [{ id: 'vendor', search_value: [pattern] }];

    before(async () => {
      s = await startTestService(dialect, { worker: false });
      api = s.root;
      const ws = (await api.post('/api/v1/workspaces', { name: 'Patterns', project_id: 'pat' })).body.id;
      W = `/api/v1/workspaces/${ws}`;
      assert.equal((await api.post(`${W}/datastores`, PURCHASE_DS)).status, 201);
      const keys = Object.keys(VENDORS);
      const r = await api.post(`${W}/datastores/pr/items`, {
        items: keys.map((k, i) => ({ title: i === 1 ? `${'a'.repeat(999)}!` : k, fields: { vendor: VENDORS[k] } })),
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      keys.forEach((k, i) => {
        idOf.set(k, r.body.ids[i]);
        titleOf.set(k, i === 1 ? `${'a'.repeat(999)}!` : k);
      });
    });
    after(() => s.close());

    it('native search matches each pattern as literal substrings, at once', async () => {
      let literalHits = 0;
      for (const p of PATTERNS) {
        const r = await answered(
          () => api.post(`${W}/datastores/pr/items/search`, { conditions: cond(p), per_page: 100 }),
          `search ${p}`,
        );
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.deepEqual(r.body.items.map((i: any) => i.id).sort(), expected(p), p);
        literalHits += r.body.total;
        // On the title too (up to 1000 characters), and among other conditions.
        const t = await answered(
          () =>
            api.post(`${W}/datastores/pr/items/search`, {
              conditions: [
                { id: 'title', search_value: [p, 'zzz'] },
                { id: 'amount', search_value: [null, null], include_null: true },
              ],
            }),
          `title ${p}`,
        );
        assert.equal(t.status, 200, JSON.stringify(t.body));
        assert.deepEqual(
          t.body.items.map((i: any) => i.id).sort(),
          [...titleOf]
            .filter(([, title]) => matches(title, p) || matches(title, 'zzz'))
            .map(([k]) => idOf.get(k)!)
            .sort(),
          `title ${p}`,
        );
      }
      assert.ok(literalHits >= 4, 'the literal texts and the long runs (for the plain run pattern) were found');
      // An invalid pattern is plain text here: native search never compiles anything.
      const open = await answered(
        () => api.post(`${W}/datastores/pr/items/search`, { conditions: cond('(a+') }),
        'unbalanced',
      );
      assert.deepEqual(
        open.body.items.map((i: any) => i.id),
        [idOf.get('literal1')],
      );
    });

    it('a batch submitted by conditions freezes the same targets at once', async () => {
      for (const p of PATTERNS) {
        const r = await answered(
          () =>
            api.post(`${W}/batches`, {
              operation: 'update',
              fields: { category: 'services' },
              dry_run: true,
              target: { datastore: 'pr', conditions: cond(p) },
            }),
          `batch ${p}`,
        );
        assert.equal(r.status, 202, JSON.stringify(r.body));
        assert.equal(r.body.total, expected(p).length, p);
      }
    });

    it('Hexabase search and ExecuteBulkAction answer at once, with the same matches', async () => {
      const base = '/api/v0/applications/pat/datastores/pr/items';
      for (const p of PATTERNS) {
        const r = await answered(
          () => api.post(`${base}/search`, { conditions: cond(p), per_page: 100 }),
          `hexabase search ${p}`,
        );
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.deepEqual(r.body.items.map((i: any) => i.i_id).sort(), expected(p), p);
        const b = await answered(
          () => api.post(`${base}/bulkaction/touch`, { conditions: cond(p), max_items: 300, continue_proc: true }),
          `bulk ${p}`,
        );
        assert.equal(b.status, 200, JSON.stringify(b.body));
        assert.equal(b.body.result.matched, expected(p).length, p);
        assert.equal(b.body.result.processed, expected(p).length, p);
      }
      // Hexabase refuses what is not a pattern at all.
      for (const bad of ['(a+', '[', 'a{2,1}', '\\']) {
        const r = await answered(() => api.post(`${base}/search`, { conditions: cond(bad) }), `invalid ${bad}`);
        assert.equal(r.status, 400, `${bad}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.error_code, 'INVALID_PARAMS');
        assert.match(r.body.message, /not a valid regular expression/);
      }
    });

    it('bounds the pattern text that reaches the regex compiler: 1000 characters each, MAX_PATTERN_CHARS in all', async () => {
      const base = '/api/v0/applications/pat/datastores/pr/items';
      const long = `(${'a'.repeat(998)})`;
      assert.equal(long.length, 1000);
      // The substring budget (MAX_PATTERN_BYTES, src/core/conditions.ts) is tighter than the schema's 1000.
      const atBudget = `(${'a'.repeat(MAX_PATTERN_BYTES - 2)})`;
      assert.equal((await api.post(`${base}/search`, { conditions: cond(atBudget) })).status, 200, 'one at the limit');
      for (const url of [`${base}/search`, `${W}/datastores/pr/items/search`]) {
        const r = await api.post(url, { conditions: cond(`${atBudget}x`) });
        assert.equal(r.status, 400, `over the budget: ${JSON.stringify(r.body).slice(0, 300)}`);
        const s = await api.post(url, { conditions: cond(`${long}x`) });
        assert.equal(s.status, 400, `1001 characters: ${JSON.stringify(s.body).slice(0, 300)}`);
      }
      // Distinct 1000-character patterns past the budget: refused before compiling them all.
      const n = Math.ceil(MAX_PATTERN_CHARS / 1000) + 1;
      const many = Array.from(
        { length: n },
        (_, i) => `${String(i).padStart(4, '0')}${'('.repeat(498)}${')'.repeat(498)}`,
      );
      const over = await answered(
        () => api.post(`${base}/search`, { conditions: [{ id: 'vendor', search_value: many }] }),
        'over the budget',
      );
      assert.equal(over.status, 400, JSON.stringify(over.body).slice(0, 300));
      assert.match(over.body.message, /more than 65536 characters/);
      // The same pattern, as often as the budgets allow, is compiled once.
      const repeated = `(${'a'.repeat(MAX_TOTAL_PATTERN_BYTES / MAX_CONDITION_PATTERNS - 2)})`;
      const same = await answered(
        () =>
          api.post(`${base}/search`, {
            conditions: [
              { id: 'vendor', search_value: Array.from({ length: MAX_CONDITION_PATTERNS }, () => repeated) },
            ],
          }),
        'repeated',
      );
      assert.equal(same.status, 200, JSON.stringify(same.body).slice(0, 300));
      // DataArts matches names with LIKE, escaped: a pattern is text there too.
      const da = await answered(
        () =>
          s.app
            .inject({
              method: 'GET',
              url: `/v2/pat/design/approvals?name=${encodeURIComponent('(a+)+$')}`,
              headers: { 'x-auth-token': api.token, workspace: W.split('/').pop()! },
            })
            .then((x) => ({ status: x.statusCode, body: JSON.parse(x.body), headers: x.headers })),
        'dataarts name',
      );
      assert.equal(da.status, 200, JSON.stringify(da.body));
    });
  },
  { timeout: SUITE_TIMEOUT_MS },
);

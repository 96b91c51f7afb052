/**
 * The condition compiler (src/core/conditions.ts) end to end: Hexabase search conditions sent to
 * `POST …/items/search`, compiled to SQL and run on each database, compared with exact result sets.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MAX_CONDITION_PATTERNS } from '../../src/core/conditions.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { PURCHASE_DS, startTestService, type Client, type Res, type TestService } from '../helpers/service.ts';

const U1 = '1001';
const U2 = '1002';
const U3 = '1003';
const TODAY = new Date().toISOString().slice(0, 10);

type Row = { title: string; status: string; fields: Record<string, unknown> };

/** T01–T10 are imported by the workspace owner, T11–T20 a moment later by a member. */
const FIXTURE: Row[] = [
  {
    title: 'T01',
    status: 'draft',
    fields: {
      amount: 10,
      vendor: 'Acme Corp',
      category: 'hardware',
      due: '2024-01-01',
      seen_at: '2024-01-01T00:00:00.000Z',
      owners: [U1],
    },
  },
  {
    title: 'T02',
    status: 'draft',
    fields: {
      amount: 20,
      vendor: 'ACME',
      category: 'software',
      due: '2024-01-15',
      seen_at: '2024-01-15T12:30:00.000Z',
      owners: [U1, U2],
    },
  },
  {
    title: 'T03',
    status: 'submitted',
    fields: {
      amount: 30,
      vendor: 'acme labs',
      category: 'services',
      due: '2024-01-31',
      seen_at: '2024-01-31T23:59:59.999Z',
      owners: [U2],
    },
  },
  {
    title: 'T04',
    status: 'submitted',
    fields: {
      amount: 40,
      vendor: 'Globex',
      category: 'hardware',
      due: '2024-02-01',
      seen_at: '2024-02-01T00:00:00.000Z',
      owners: [U3],
    },
  },
  {
    title: 'T05',
    status: 'approved',
    fields: {
      amount: 50,
      vendor: 'Initech',
      category: 'software',
      due: '2024-02-29',
      seen_at: '2024-02-29T08:00:00+02:00',
      owners: [],
    },
  },
  { title: 'T06', status: 'approved', fields: { amount: 0, vendor: '100% Natural', category: 'services' } },
  { title: 'T07', status: 'rejected', fields: { amount: -5.5, vendor: '100 Natural' } },
  { title: 'T08', status: 'rejected', fields: { amount: 1.25, vendor: 'snake_case' } },
  { title: 'T09', status: 'ordered', fields: { amount: 100, vendor: 'snakeXcase' } },
  { title: 'T10', status: 'ordered', fields: { amount: 1000, vendor: 'C:\\temp' } },
  { title: 'T11', status: 'draft', fields: { amount: 999.99, vendor: 'C:temp' } },
  { title: 'T12', status: 'draft', fields: { vendor: '' } },
  { title: 'T13', status: 'draft', fields: {} },
  { title: 'T14', status: 'draft', fields: { vendor: null, amount: null } },
  { title: 'T15', status: 'submitted', fields: { amount: 15, vendor: "O'Brien & Sons" } },
  { title: 'T16', status: 'approved', fields: { amount: 25, vendor: 'Umbrella' } },
  { title: 'T17', status: 'ordered', fields: { amount: 70, vendor: 'Acme|Globex' } },
  { title: 'T18', status: 'rejected', fields: { amount: 80, vendor: 'apple' } },
  { title: 'T19', status: 'approved', fields: { amount: 90, vendor: 'Banana' } },
  {
    title: 'T20',
    status: 'draft',
    fields: { amount: 60, vendor: 'Café Zürich', due: TODAY, seen_at: `${TODAY}T12:00:00.000Z`, owners: [U3] },
  },
];

const ALL = FIXTURE.map((r) => r.title);
const ACME = ['T01', 'T02', 'T03', 'T17'];
const VENDOR_BLANK = ['T12', 'T13', 'T14'];
const AMOUNT_BLANK = ['T12', 'T13', 'T14'];
const except = (out: string[]) => ALL.filter((t) => !out.includes(t));

type Cond = Record<string, unknown>;
const c = (id: string, search_value: unknown[], opts: Cond = {}): Cond => ({ id, search_value, ...opts });

describeEachDialect('search conditions', (dialect) => {
  let s: TestService;
  let owner: Client;
  let member: Client;
  let memberId: string;
  let ws: string;
  const ids = new Map<string, string>();
  let secondImportAt: string;
  let firstImportAt: string;
  let patchedAt: string;

  const url = () => `/api/v1/workspaces/${ws}/datastores/pr/items/search`;
  const search = (body: Record<string, unknown>): Promise<Res> => owner.post(url(), body);

  /** Titles of every match, sorted: the result set of a search. */
  async function found(body: Record<string, unknown>): Promise<string[]> {
    const r = await search({ per_page: 1000, ...body });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.total, r.body.items.length);
    return r.body.items.map((i: any) => i.title).sort();
  }
  const where = (...conditions: Cond[]) => found({ conditions });
  const expect = async (body: Promise<string[]>, titles: string[]) => assert.deepEqual(await body, [...titles].sort());

  async function refused(
    body: Record<string, unknown>,
    code: 'INVALID_CONDITION' | 'VALIDATION_FAILED',
  ): Promise<void> {
    const r = await search(body);
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.equal(r.body.error.code, code, JSON.stringify(r.body));
  }

  before(async () => {
    s = await startTestService(dialect);
    owner = (await s.user('owner')).api;
    const w = await owner.post('/api/v1/workspaces', { name: 'Conditions' });
    assert.equal(w.status, 201);
    ws = w.body.id;
    const m = await s.user('member', ws, 'member');
    member = m.api;
    memberId = m.user.id;
    assert.equal((await owner.post(`/api/v1/workspaces/${ws}/datastores`, PURCHASE_DS)).status, 201);

    const imp = async (api: Client, rows: Row[]) => {
      const r = await api.post(`/api/v1/workspaces/${ws}/datastores/pr/items`, { items: rows });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      rows.forEach((row, i) => ids.set(row.title, r.body.ids[i]));
      return (await owner.get(`/api/v1/workspaces/${ws}/items/${r.body.ids[0]}`)).body.created_at as string;
    };
    firstImportAt = await imp(owner, FIXTURE.slice(0, 10));
    await sleep(15);
    secondImportAt = await imp(member, FIXTURE.slice(10));
    await sleep(15);
    const p = await owner.patch(`/api/v1/workspaces/${ws}/items/${ids.get('T05')}`, {
      fields: { extra: { note: 'touched' } },
    });
    assert.equal(p.status, 200, JSON.stringify(p.body));
    patchedAt = p.body.updated_at;

    // Another datastore of the same workspace with look-alike items: never part of a search on `pr`.
    assert.equal(
      (await owner.post(`/api/v1/workspaces/${ws}/datastores`, { ...PURCHASE_DS, display_id: 'other' })).status,
      201,
    );
    const o = await owner.post(`/api/v1/workspaces/${ws}/datastores/other/items`, {
      title: 'OTHER',
      fields: { vendor: 'Acme', amount: 10 },
    });
    assert.equal(o.status, 201);
    ids.set('OTHER', o.body.id);
  });
  after(() => s.close());

  it('matches everything without conditions, and only the datastore searched', async () => {
    await expect(found({}), ALL);
    await expect(found({ conditions: [] }), ALL);
  });

  it('selects i_id lists (unknown ids and ids of another datastore match nothing)', async () => {
    await expect(where(c('i_id', [ids.get('T01'), ids.get('T06'), '1234567890123456789', ids.get('OTHER')])), [
      'T01',
      'T06',
    ]);
    await expect(where(c('id', [ids.get('T20')])), ['T20']);
  });

  it('matches text as a case-insensitive substring', async () => {
    await expect(where(c('vendor', ['acme'])), ACME);
    await expect(where(c('vendor', ['ACME'])), ACME);
    await expect(where(c('vendor', ['cME cO'])), ['T01']);
    await expect(where(c('title', ['t1'])), ['T10', 'T11', 'T12', 'T13', 'T14', 'T15', 'T16', 'T17', 'T18', 'T19']);
    // Quotes are data, not SQL.
    await expect(where(c('vendor', ["o'brien"])), ['T15']);
  });

  it('folds case for ASCII letters only, identically on both databases', async () => {
    await expect(where(c('vendor', ['café zürich'])), ['T20']);
    await expect(where(c('vendor', ['CAFé'])), ['T20']);
    await expect(where(c('vendor', ['CAFÉ'])), []);
  });

  it('ORs several exact_match values and matches them case-sensitively', async () => {
    await expect(where(c('vendor', ['ACME', 'Globex', 'nobody'], { exact_match: true })), ['T02', 'T04']);
    await expect(where(c('vendor', ['acme'], { exact_match: true })), []);
    await expect(where(c('vendor', ['Acme|Globex'], { exact_match: true })), ['T17']);
    await expect(where(c('category', ['hardware', 'services'])), ['T01', 'T03', 'T04', 'T06']);
  });

  it('ORs "A|B" alternatives in a substring search', async () => {
    await expect(where(c('vendor', ['globex|ACME'])), ['T01', 'T02', 'T03', 'T04', 'T17']);
    await expect(where(c('vendor', ['initech|', 'banana'])), ['T05', 'T19']);
  });

  it('matches LIKE metacharacters in search values literally', async () => {
    await expect(where(c('vendor', ['100%'])), ['T06']);
    await expect(where(c('vendor', ['%'])), ['T06']);
    await expect(where(c('vendor', ['e_c'])), ['T08']);
    await expect(where(c('vendor', ['_'])), ['T08']);
    await expect(where(c('vendor', ['c:\\t'])), ['T10']);
    await expect(where(c('vendor', ['\\'])), ['T10']);
    await expect(where(c('vendor', ['C:\\temp', 'snake_case', '100% Natural'], { exact_match: true })), [
      'T06',
      'T08',
      'T10',
    ]);
  });

  it('negates with not_match (blanks do not match, so their negation does)', async () => {
    await expect(where(c('vendor', ['acme'], { not_match: true })), except(ACME));
    await expect(
      where(c('vendor', ['acme'], { not_match: true, include_null: false })),
      except([...ACME, ...VENDOR_BLANK]),
    );
    await expect(where(c('amount', [null, 50], { not_match: true })), [
      'T09',
      'T10',
      'T11',
      'T12',
      'T13',
      'T14',
      'T17',
      'T18',
      'T19',
      'T20',
    ]);
    await expect(
      where(c('status', ['draft'], { not_match: true })),
      except(['T01', 'T02', 'T11', 'T12', 'T13', 'T14', 'T20']),
    );
    await expect(where(c('owners', [U1, U3], { not_match: true })), except(['T01', 'T02', 'T04', 'T20']));
  });

  it('adds or removes blanks with include_null on a text field (absent, null and "" are blank)', async () => {
    await expect(where(c('vendor', ['acme'], { include_null: true })), [...ACME, ...VENDOR_BLANK]);
    await expect(where(c('vendor', ['acme'], { include_null: false })), ACME);
    await expect(where(c('vendor', [], { include_null: true })), VENDOR_BLANK);
    await expect(where({ id: 'vendor', include_null: true }), VENDOR_BLANK);
    await expect(where(c('vendor', [''], { include_null: false })), except(VENDOR_BLANK));
  });

  it('adds or removes blanks with include_null on number, date and users fields', async () => {
    await expect(where(c('amount', [null, 10], { include_null: true })), ['T01', 'T06', 'T07', 'T08', ...AMOUNT_BLANK]);
    await expect(where(c('amount', [null, null], { include_null: false })), except(AMOUNT_BLANK));
    await expect(where(c('amount', [], { include_null: true })), AMOUNT_BLANK);
    await expect(where(c('due', [], { include_null: true })), except(['T01', 'T02', 'T03', 'T04', 'T05', 'T20']));
    await expect(where(c('due', ['2024-02-01', null], { include_null: false })), ['T04', 'T05', 'T20']);
    // An empty users list is as blank as an absent one.
    await expect(where(c('owners', [], { include_null: true })), except(['T01', 'T02', 'T03', 'T04', 'T20']));
  });

  it('matches number ranges inclusively, with open ends and numbers as strings', async () => {
    await expect(where(c('amount', [10, 30])), ['T01', 'T02', 'T03', 'T15', 'T16']);
    await expect(where(c('amount', ['10', '30'])), ['T01', 'T02', 'T03', 'T15', 'T16']);
    await expect(where(c('amount', [null, '0'])), ['T06', 'T07']);
    await expect(where(c('amount', ['999.99', null])), ['T10', 'T11']);
    await expect(where(c('amount', ['-5.5', 1.25])), ['T06', 'T07', 'T08']);
    await expect(where(c('amount', [' 1e3 ', ''])), ['T10']);
    await expect(where(c('amount', [null, null])), except(AMOUNT_BLANK));
    await expect(where(c('amount', [30, 10])), []);
    // Numeric, not text, order: 100 > 25.
    await expect(where(c('amount', [99, 101])), ['T09']);
  });

  it('matches exact number lists', async () => {
    await expect(where(c('amount', [10, '50', 1000, 0], { exact_match: true })), ['T01', 'T05', 'T06', 'T10']);
    await expect(where(c('amount', ['999.99'], { exact_match: true })), ['T11']);
    await expect(where(c('amount', [-5.5, 1.25], { exact_match: true })), ['T07', 'T08']);
  });

  it('matches date ranges inclusively', async () => {
    await expect(where(c('due', ['2024-01-15', '2024-02-01'])), ['T02', 'T03', 'T04']);
    await expect(where(c('due', [null, '2024-01-15'])), ['T01', 'T02']);
    await expect(where(c('due', ['2024-02-29', null])), ['T05', 'T20']);
    await expect(where(c('due', ['TODAY', 'today'])), ['T20']);
    await expect(where(c('due', [null, null])), ['T01', 'T02', 'T03', 'T04', 'T05', 'T20']);
  });

  it('widens bare dates to whole days on datetime fields and compares instants in UTC', async () => {
    await expect(where(c('seen_at', ['2024-01-15', '2024-01-31'])), ['T02', 'T03']);
    await expect(where(c('seen_at', ['2024-01-01', '2024-01-01'])), ['T01']);
    await expect(where(c('seen_at', ['2024-01-15T12:30:00.000Z', '2024-02-01T00:00:00Z'])), ['T02', 'T03', 'T04']);
    await expect(where(c('seen_at', ['2024-01-15T12:30:00.001Z', '2024-01-31T23:59:59.998Z'])), []);
    // 08:00 at +02:00 is 06:00Z; a bound given in another zone compares as the same instant.
    await expect(where(c('seen_at', ['2024-02-29T01:00:00-05:00', '2024-02-29T06:00:00Z'])), ['T05']);
    await expect(where(c('seen_at', ['TODAY', 'TODAY'])), ['T20']);
    await expect(where(c('seen_at', ['2024-02-01', null])), ['T04', 'T05', 'T20']);
  });

  it('matches the status by display_id, name or id, and refuses an unknown status', async () => {
    await expect(where(c('status', ['draft'])), ['T01', 'T02', 'T11', 'T12', 'T13', 'T14', 'T20']);
    await expect(where(c('status', ['Submitted', 'approved'])), ['T03', 'T04', 'T05', 'T06', 'T15', 'T16', 'T19']);
    const ds = await owner.get(`/api/v1/workspaces/${ws}/datastores/pr`);
    const ordered = ds.body.statuses.find((x: any) => x.display_id === 'ordered').id;
    await expect(where(c('status_id', [ordered])), ['T09', 'T10', 'T17']);
    await refused({ conditions: [c('status', ['draft', 'nope'])] }, 'INVALID_CONDITION');
  });

  it('matches created_at and updated_at ranges', async () => {
    await expect(where(c('created_at', [secondImportAt, null])), ALL.slice(10));
    await expect(where(c('created_at', [null, firstImportAt])), ALL.slice(0, 10));
    await expect(where(c('created_at', ['TODAY', null])), ALL);
    await expect(where(c('created_at', [null, '2024-12-31'])), []);
    await expect(where(c('updated_at', [patchedAt, null])), ['T05']);
    await expect(where(c('rev_no', [2, null])), ['T05']);
    await expect(where(c('rev_no', ['1.5', null])), ['T05']);
  });

  it('matches created_by', async () => {
    await expect(where(c('created_by', [memberId])), ALL.slice(10));
    await expect(where(c('created_by', [memberId, '1'])), ALL.slice(10));
    await expect(where(c('created_by', [memberId], { not_match: true })), ALL.slice(0, 10));
  });

  it('matches a users field that holds any of the given users', async () => {
    await expect(where(c('owners', [U2])), ['T02', 'T03']);
    await expect(where(c('owners', [U1, U3])), ['T01', 'T02', 'T04', 'T20']);
    await expect(where(c('owners', ['9999'])), []);
  });

  it('combines nested conditions with use_or_condition at several levels', async () => {
    // draft AND (acme OR amount >= 900)
    await expect(
      where(c('status', ['draft']), {
        use_or_condition: true,
        conditions: [c('vendor', ['acme']), c('amount', [900, null])],
      }),
      ['T01', 'T02', 'T11'],
    );
    // (hardware AND (amount <= 10 OR owners has U3)) OR (rejected AND NOT (vendor contains "snake"))
    await expect(
      where({
        use_or_condition: true,
        conditions: [
          {
            conditions: [
              c('category', ['hardware']),
              { use_or_condition: true, conditions: [c('amount', [null, 10]), c('owners', [U3])] },
            ],
          },
          { conditions: [c('status', ['rejected']), { conditions: [c('vendor', ['snake'])], not_match: true }] },
        ],
      }),
      ['T01', 'T04', 'T07', 'T18'],
    );
    // A negated group holds what the group does not match, blanks included, like a negated leaf.
    await expect(where({ not_match: true, conditions: [c('vendor', ['acme'])] }), except(ACME));
    // An empty `conditions` list leaves a plain condition.
    await expect(where({ conditions: [], id: 'title', search_value: ['T0'] }), ALL.slice(0, 9));
  });

  it('combines the top-level list with use_or_condition', async () => {
    const conditions = [c('vendor', ['Globex'], { exact_match: true }), c('amount', [1000], { exact_match: true })];
    await expect(found({ conditions, use_or_condition: true }), ['T04', 'T10']);
    await expect(found({ conditions, use_or_condition: false }), []);
    await expect(found({ conditions: [c('vendor', ['acme']), c('amount', [15, 100])] }), ['T02', 'T03', 'T17']);
  });

  it('sorts by a number field, blanks last in both directions, ties by id', async () => {
    const sorted = async (sort_order: 'asc' | 'desc') => {
      const r = await search({ sort_field_id: 'amount', sort_order, per_page: 1000 });
      assert.equal(r.status, 200);
      return r.body.items.map((i: any) => i.title);
    };
    const byAmount = [
      'T07',
      'T06',
      'T08',
      'T01',
      'T15',
      'T02',
      'T16',
      'T03',
      'T04',
      'T05',
      'T20',
      'T17',
      'T18',
      'T19',
      'T09',
      'T11',
      'T10',
    ];
    assert.deepEqual(await sorted('asc'), [...byAmount, ...AMOUNT_BLANK]);
    assert.deepEqual(await sorted('desc'), [...byAmount.reverse(), ...AMOUNT_BLANK]);
  });

  it('sorts by a text field in code-point order, blanks last', async () => {
    const sorted = async (sort_field_id: string, sort_order: 'asc' | 'desc') => {
      const r = await search({
        conditions: [
          c(
            'i_id',
            ['T02', 'T03', 'T18', 'T19', 'T13', 'T12'].map((t) => ids.get(t)),
          ),
        ],
        sort_field_id,
        sort_order,
      });
      assert.equal(r.status, 200);
      return r.body.items.map((i: any) => i.title);
    };
    // "" < "ACME" < "Banana" < "acme labs" < "apple" byte for byte, whatever the database's collation.
    assert.deepEqual(await sorted('vendor', 'asc'), ['T12', 'T02', 'T19', 'T03', 'T18', 'T13']);
    assert.deepEqual(await sorted('vendor', 'desc'), ['T18', 'T03', 'T19', 'T02', 'T12', 'T13']);
    assert.deepEqual(await sorted('title', 'desc'), ['T19', 'T18', 'T13', 'T12', 'T03', 'T02']);
    await refused({ sort_field_id: 'extra' }, 'INVALID_CONDITION');
    await refused({ sort_field_id: 'nope' }, 'INVALID_CONDITION');
  });

  it('pages from page 1 with per_page, reporting the total', async () => {
    const page = async (n: number, per_page: number) => {
      const r = await search({ page: n, per_page, sort_field_id: 'title', sort_order: 'asc' });
      assert.equal(r.status, 200);
      assert.equal(r.body.total, 20);
      return r.body.items.map((i: any) => i.title);
    };
    assert.deepEqual(await page(1, 6), ALL.slice(0, 6));
    assert.deepEqual(await page(2, 6), ALL.slice(6, 12));
    assert.deepEqual(await page(4, 6), ALL.slice(18));
    assert.deepEqual(await page(5, 6), []);
    const filtered = await search({ conditions: [c('status', ['draft'])], page: 2, per_page: 3 });
    assert.deepEqual([filtered.body.total, filtered.body.items.map((i: any) => i.title)], [7, ['T12', 'T13', 'T14']]);
    await refused({ page: 0 }, 'VALIDATION_FAILED');
    await refused({ per_page: 0 }, 'VALIDATION_FAILED');
  });

  it('answers the count alone with return_count_only', async () => {
    const r = await search({ conditions: [c('vendor', ['acme'])], return_count_only: true });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { items: [], total: 4 });
  });

  it('refuses conditions that cannot be compiled with INVALID_CONDITION', async () => {
    const bad: Cond[] = [
      c('extra', ['x']),
      c('nope', ['x']),
      c('amount', [1, 2, 3]),
      c('amount', [5]),
      c('due', ['2024-01-01', '2024-01-02', '2024-01-03']),
      c('created_at', ['2024-01-01']),
      c('amount', ['ten', null]),
      c('amount', ['0x10', null]),
      c('amount', ['Infinity', null]),
      c('amount', [true, null]),
      c('amount', ['abc'], { exact_match: true }),
      c('due', ['2024-02-30', null]),
      c('due', ['yesterday', null]),
      c('seen_at', [20240101, null]),
      c('vendor', [null]),
      c('vendor', [true]),
      c('vendor', []),
      { id: 'vendor' },
      { search_value: ['x'] },
      { id: 'vendor', search_value: ['x'], conditions: [c('amount', [1, 2])] },
    ];
    for (const cond of bad) {
      const r = await search({ conditions: [cond] });
      assert.equal(r.status, 400, `${JSON.stringify(cond)} → ${r.status} ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, 'INVALID_CONDITION', JSON.stringify(cond));
    }
  });

  it('refuses a wrong JSON type or nesting deeper than 8 levels with VALIDATION_FAILED', async () => {
    const bad: Record<string, unknown>[] = [
      { conditions: [{ id: 'vendor', search_value: 'acme' }] },
      { conditions: [{ id: 'vendor', search_value: ['acme'], exact_match: 'true' }] },
      { conditions: [{ id: 'vendor', search_value: ['acme'], include_null: 1 }] },
      { conditions: [{ id: 5, search_value: ['acme'] }] },
      { conditions: [{ id: 'vendor', search_value: [{ x: 1 }] }] },
      { conditions: [{ id: 'vendor', search_value: [['a']] }] },
      { conditions: [{ id: 'vendor', search_value: ['acme'], unknown_key: true }] },
      { conditions: { id: 'vendor', search_value: ['acme'] } },
      { conditions: [c('vendor', ['acme'])], use_or_condition: 'yes' },
      { conditions: [], page: '1' },
      { conditions: [], per_page: 1.5 },
      { conditions: [], sort_order: 'up' },
    ];
    for (const body of bad) await refused(body, 'VALIDATION_FAILED');

    const nest = (levels: number): Cond => (levels === 1 ? c('vendor', ['acme']) : { conditions: [nest(levels - 1)] });
    await expect(where(nest(8)), ACME);
    await refused({ conditions: [nest(9)] }, 'VALIDATION_FAILED');
  });

  it('keeps SQL out of search values and condition ids', async () => {
    const attacks = ["'; drop table item; --", '") or 1=1 --', "' or '1'='1", "x') or 1=1 --", '1; delete from item'];
    for (const a of attacks) {
      await expect(where(c('vendor', [a])), []);
      await expect(where(c('vendor', [a], { exact_match: true })), []);
      await expect(where(c('title', [`T01|${a}`])), ['T01']);
      await expect(where(c('i_id', [a])), []);
      await expect(where(c('created_by', [a])), []);
      await expect(where(c('owners', [a])), []);
      for (const cond of [
        c(a, ['x']),
        c('status', [a]),
        c('amount', [a, null]),
        c('due', [a, null]),
        c('seen_at', [null, a]),
      ]) {
        const r = await search({ conditions: [cond] });
        assert.equal(r.status, 400, JSON.stringify(cond));
        assert.equal(r.body.error.code, 'INVALID_CONDITION');
      }
      const sorted = await search({ sort_field_id: a.slice(0, 64) });
      assert.equal(sorted.status, 400);
    }
    // The table and every row are still there.
    await expect(found({}), ALL);
    const n = await s.db.ctx.db
      .selectFrom('item')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    assert.equal(Number(n.n), 21);
  });

  it('runs large searches the same on both databases, and refuses oversized ones as invalid', async () => {
    // As many substring patterns as a condition may hold (MAX_CONDITION_PATTERNS), as values or "|" alternatives.
    const values = Array.from({ length: MAX_CONDITION_PATTERNS - 1 }, (_, i) => `no-such-vendor-${i}`);
    await expect(where(c('vendor', [...values, 'globex'])), ['T04', 'T17']);
    await expect(
      where(
        c('vendor', [Array.from({ length: MAX_CONDITION_PATTERNS - 1 }, (_, i) => `zz${i}`).join('|') + '|initech']),
      ),
      ['T05'],
    );
    await refused({ conditions: [c('vendor', [...values, 'globex', 'one-too-many'])] }, 'INVALID_CONDITION');
    // A thousand exact values are equality tests, not patterns: allowed.
    await expect(
      where(
        c('vendor', [...Array.from({ length: 999 }, (_, i) => `no-such-vendor-${i}`), 'Globex'], { exact_match: true }),
      ),
      ['T04'],
    );
    // 10,000 bound values in all is the limit: here ten i_id lists of 1,000, each naming one of T01–T10.
    const unknownIds = (list: number) => Array.from({ length: 999 }, (_, i) => `${list}${String(i).padStart(18, '0')}`);
    const tenThousand = ALL.slice(0, 10).map((title, list) => c('i_id', [...unknownIds(list + 1), ids.get(title)]));
    await expect(found({ conditions: tenThousand, use_or_condition: true }), ALL.slice(0, 10));
    await refused({ conditions: [...tenThousand, c('vendor', ['x'])], use_or_condition: true }, 'INVALID_CONDITION');
    // Each "A|B" alternative counts: three values of 500 alternatives are 1,500 values.
    const alternatives = 'q|'.repeat(499) + 'x';
    await expect(
      found({
        conditions: [
          c('vendor', ['qq', 'qqq', 'globex']),
          { use_or_condition: true, conditions: tenThousand.slice(1) },
        ],
      }),
      ['T04'],
    );
    await refused(
      {
        conditions: [
          c('vendor', [alternatives, alternatives, alternatives]),
          { use_or_condition: true, conditions: tenThousand.slice(1) },
        ],
      },
      'INVALID_CONDITION',
    );
  });

  it('answers the same through a member token (read access)', async () => {
    const r = await member.post(url(), { conditions: [c('vendor', ['acme'])], return_count_only: true });
    assert.equal(r.status, 200);
    assert.equal(r.body.total, 4);
  });
});

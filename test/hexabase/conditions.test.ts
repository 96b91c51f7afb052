/**
 * The condition language through the Hexabase door, on both databases: every operator in items/search, and
 * the same conditions selecting the targets of ExecuteBulkAction.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { describeEachDialect } from '../helpers/db.ts';
import { startTestService, type TestService } from '../helpers/service.ts';
import { setupHexabase, type HexWorld } from './helpers.ts';

const TODAY = new Date().toISOString().slice(0, 10);

/** title, status, fields */
const FIXTURE: [string, string, Record<string, unknown>][] = [
  ['H01', 'New', { TEXT_FIELD_1: 'Acme Corp', amount: 10, kind: 'a' }],
  ['H02', 'New', { TEXT_FIELD_1: 'ACME', amount: 20, kind: 'b' }],
  ['H03', 'Approved', { TEXT_FIELD_1: 'Globex', amount: 30, kind: 'a' }],
  ['H04', 'Approved', { TEXT_FIELD_1: 'Initech', amount: 40 }],
  ['H05', 'Closed', { TEXT_FIELD_1: '', amount: 50, kind: 'b' }],
  ['H06', 'New', { amount: -1.5 }],
  ['H07', 'New', { TEXT_FIELD_1: '100% Natural', amount: 100 }],
  ['H08', 'Closed', { TEXT_FIELD_1: 'snake_case' }],
];

describeEachDialect('hexabase conditions', (dialect) => {
  let s: TestService;
  let w: HexWorld;
  const idOf = new Map<string, string>();
  const titleOf = new Map<string, string>();

  async function found(body: Record<string, unknown>): Promise<string[]> {
    const r = await w.member.post(`${w.base}/items/search`, { per_page: 0, ...body });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.totalItems, r.body.items.length);
    return r.body.items.map((i: any) => i.title).sort();
  }
  const where = (...conditions: unknown[]) => found({ conditions });

  before(async () => {
    s = await startTestService(dialect);
    w = await setupHexabase(s, 'CondApp');
    const r = await w.member.post(`/api/v1/workspaces/${w.ws}/datastores/SampleDB/items`, {
      items: FIXTURE.map(([title, status, fields]) => ({ title, status, fields })),
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    FIXTURE.forEach(([t], i) => {
      idOf.set(t, r.body.ids[i]);
      titleOf.set(r.body.ids[i], t);
    });
  });
  after(() => s.close());

  it('text: substring (case-insensitive), "A|B", exact_match, not_match, include_null', async () => {
    assert.deepEqual(await where({ id: 'TEXT_FIELD_1', search_value: ['acme'] }), ['H01', 'H02']);
    assert.deepEqual(await where({ id: 'TEXT_FIELD_1', search_value: ['glob|init'] }), ['H03', 'H04']);
    assert.deepEqual(await where({ id: 'TEXT_FIELD_1', search_value: ['ACME', 'Globex'], exact_match: true }), [
      'H02',
      'H03',
    ]);
    assert.deepEqual(await where({ id: 'TEXT_FIELD_1', search_value: ['acme'], not_match: true }), [
      'H03',
      'H04',
      'H05',
      'H06',
      'H07',
      'H08',
    ]);
    assert.deepEqual(
      await where({ id: 'TEXT_FIELD_1', search_value: ['acme'], not_match: true, include_null: false }),
      ['H03', 'H04', 'H07', 'H08'],
    );
    assert.deepEqual(await where({ id: 'TEXT_FIELD_1', search_value: ['globex'], include_null: true }), [
      'H03',
      'H05',
      'H06',
    ]);
    assert.deepEqual(await where({ id: 'TEXT_FIELD_1', search_value: ['100%'] }), ['H07'], '% is a character');
    assert.deepEqual(await where({ id: 'TEXT_FIELD_1', search_value: ['e_c'] }), ['H08'], '_ is a character');
    assert.deepEqual(
      await where({ id: 'title', search_value: ['H0[1]'] }),
      [],
      'a valid pattern beyond "|" matches literally',
    );
  });

  it('numbers, dates and item properties: ranges, exact lists, i_id, status, created_by', async () => {
    assert.deepEqual(await where({ id: 'amount', search_value: ['20', '40'] }), ['H02', 'H03', 'H04']);
    assert.deepEqual(await where({ id: 'amount', search_value: [null, 0] }), ['H06']);
    assert.deepEqual(await where({ id: 'amount', search_value: ['50', null] }), ['H05', 'H07']);
    assert.deepEqual(await where({ id: 'amount', search_value: [10, 100], exact_match: true }), ['H01', 'H07']);
    assert.deepEqual(await where({ id: 'amount', search_value: [10, 100], not_match: true, include_null: false }), [
      'H06',
    ]);
    assert.deepEqual(await where({ id: 'i_id', search_value: [idOf.get('H03'), idOf.get('H08'), 'not-an-id'] }), [
      'H03',
      'H08',
    ]);
    assert.deepEqual(await where({ id: 'status', search_value: ['Closed'] }), ['H05', 'H08']);
    assert.deepEqual(await where({ id: 'status_id', search_value: ['Approved'], not_match: true }), [
      'H01',
      'H02',
      'H05',
      'H06',
      'H07',
      'H08',
    ]);
    assert.deepEqual(await where({ id: 'kind', search_value: ['a'] }), ['H01', 'H03']);
    assert.equal((await where({ id: 'created_at', search_value: [TODAY, null] })).length, 8);
    assert.equal((await where({ id: 'created_at', search_value: ['TODAY', 'TODAY'] })).length, 8);
    assert.equal((await where({ id: 'updated_at', search_value: [null, '2000-01-01T00:00:00.000Z'] })).length, 0);
    assert.equal((await where({ id: 'created_by', search_value: ['1'] })).length, 0);
    assert.equal((await where({ id: 'rev_no', search_value: [1, 1] })).length, 8);
  });

  it('nesting with use_or_condition, top-level OR, and the same conditions driving a bulk action', async () => {
    const nested = {
      conditions: [
        { id: 'status', search_value: ['New'] },
        {
          use_or_condition: true,
          conditions: [
            { id: 'amount', search_value: ['15', '25'] },
            { id: 'TEXT_FIELD_1', search_value: ['natural'] },
            {
              conditions: [
                { id: 'kind', search_value: ['a'] },
                { id: 'amount', search_value: [null, '10'] },
              ],
            },
          ],
        },
      ],
    };
    assert.deepEqual(await found(nested), ['H01', 'H02', 'H07']);
    assert.deepEqual(
      await found({
        use_or_condition: true,
        conditions: [
          { id: 'status', search_value: ['Closed'] },
          { id: 'amount', search_value: [null, 0] },
        ],
      }),
      ['H05', 'H06', 'H08'],
    );
    assert.deepEqual(
      await found({ conditions: [{ not_match: true, conditions: [{ id: 'status', search_value: ['New'] }] }] }),
      ['H03', 'H04', 'H05', 'H08'],
    );

    const r = await w.member.post(`${w.base}/items/bulkaction/UpdateAction`, { ...nested, comment: 'nested' });
    assert.deepEqual(r.body, { has_error: false, result: { matched: 3, processed: 3 } });
    assert.deepEqual(await where({ id: 'status', search_value: ['Approved'] }), ['H01', 'H02', 'H03', 'H04', 'H07']);
  });
});

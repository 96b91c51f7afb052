import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_JSON_DEPTH, parseJsonBody } from '../../src/api/json-body.ts';
import { AppError } from '../../src/errors.ts';

function refusedWith(code: string, text: string | Uint8Array): AppError {
  let caught: unknown;
  try {
    parseJsonBody(text);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof AppError, `expected an AppError for ${String(text).slice(0, 80)}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.equal(caught.status, 400);
  return caught;
}

describe('parseJsonBody', () => {
  it('parses ordinary JSON exactly like JSON.parse', () => {
    const docs = [
      '{}',
      '[]',
      '"s"',
      '0',
      '-0',
      'null',
      'true',
      ' { "a" : [ 1 , 2.5 , -3 , "x" , null , false , { } ] } ',
      '{"n": 1234567890123456, "m": -1234567890123456}',
      '{"a": "\\"quoted\\" \\\\ \\/ \\b\\f\\n\\r\\t \\u00e9 \\ud83d\\ude00"}',
      '{"__proto__": {"x": 1}, "constructor": 2}',
    ];
    for (const d of docs) assert.deepEqual(parseJsonBody(d), JSON.parse(d), d);
  });

  it('turns integers outside the safe range into strings with every digit', () => {
    assert.deepEqual(parseJsonBody('{"id": 1574091304963350529}'), { id: '1574091304963350529' });
    assert.deepEqual(parseJsonBody('{"id": -1574091304963350529}'), { id: '-1574091304963350529' });
    assert.deepEqual(parseJsonBody('1234567890123456789'), '1234567890123456789');
    assert.deepEqual(parseJsonBody('[1234567890123456789,9223372036854775807 ,\n18446744073709551615]'), [
      '1234567890123456789',
      '9223372036854775807',
      '18446744073709551615',
    ]);
    assert.deepEqual(parseJsonBody('{"a":{"b":[{"c":12345678901234567890}]},"d":1}'), {
      a: { b: [{ c: '12345678901234567890' }] },
      d: 1,
    });
    // 2^53 itself is not safe (2^53 + 1 reads as 2^53).
    assert.deepEqual(parseJsonBody('[9007199254740992, 9007199254740993]'), ['9007199254740992', '9007199254740993']);
  });

  it('keeps safe integers as numbers', () => {
    assert.deepEqual(
      parseJsonBody('[9007199254740991, -9007199254740991, 1000000000000000, 0, -1, 42]'),
      [9007199254740991, -9007199254740991, 1000000000000000, 0, -1, 42],
    );
    const v = parseJsonBody('{"rev_no": 7}') as { rev_no: unknown };
    assert.equal(typeof v.rev_no, 'number');
  });

  it('leaves strings untouched, whatever digits and escaped quotes they hold', () => {
    const docs = [
      '{"a": "12345678901234567890"}',
      '{"a": "x 12345678901234567890 y"}',
      '{"a": "say \\"12345678901234567890\\" now", "b": "\\"", "c": "12345678901234567890\\\\"}',
      '{"12345678901234567890": "k"}',
      '{"a": "[[[[{{{{", "b": "]]]}}}"}',
      '{"a": "\\\\", "b": "\\\\\\"12345678901234567890"}',
    ];
    for (const d of docs) assert.deepEqual(parseJsonBody(d), JSON.parse(d), d);
    // A long integer right after a string ending in an escaped backslash is still found.
    assert.deepEqual(parseJsonBody('{"a": "\\\\", "b": 12345678901234567890}'), { a: '\\', b: '12345678901234567890' });
    assert.deepEqual(parseJsonBody('{"a": "x\\"", "b": 12345678901234567890}'), { a: 'x"', b: '12345678901234567890' });
  });

  it('leaves fractions and exponents as numbers, however many digits they have', () => {
    const nums = [
      '0.30000000000000004',
      '0.12345678901234567890123',
      '-0.12345678901234567890123',
      '12345678901234567890.5',
      '1.5e-7',
      '-1.5E-7',
      '1e21',
      '1E+21',
      '12345678901234567890e2',
      '-12345678901234567890e-2',
      '1e-400',
      '5e-324',
      '1.7976931348623157e308',
      '1.0',
    ];
    for (const n of nums) {
      const v = parseJsonBody(`{"n": ${n}, "a": [${n}]}`) as { n: unknown; a: unknown[] };
      assert.equal(v.n, JSON.parse(n), n);
      assert.equal(typeof v.n, 'number', n);
      assert.deepEqual(v.a, [JSON.parse(n)], n);
    }
  });

  it('refuses numbers beyond a double instead of reading Infinity', () => {
    for (const n of ['1e400', '-1e400', '1E+309', '[1, 2, 1e999]', `1${'0'.repeat(400)}.5`]) {
      const e = refusedWith('VALIDATION_FAILED', `{"a": ${n}}`);
      assert.match(e.message, /^body\/a/);
    }
  });

  it('refuses invalid JSON with INVALID_JSON, including what a rewrite could make valid', () => {
    for (const t of [
      '',
      '   ',
      '{',
      '{"a": 1',
      '{"a": 1} x',
      '{"a": 1,}',
      "{'a': 1}",
      '{"a": 0000000000000000001}',
      '{"a": 01234567890123456789}',
      '{"a": -}',
      '{"a": --12345678901234567890}',
      '{"a": 12345678901234567890abc}',
      '{"a": .5}',
      '{"a": NaN}',
      '[1 2]',
      '"unterminated',
      '"raw \u0001 control"',
      '"raw \u0000 nul"',
    ]) {
      refusedWith('INVALID_JSON', t);
    }
  });

  it('refuses nesting deeper than MAX_JSON_DEPTH before parsing, and accepts the limit', () => {
    const arrays = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    const objects = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
    assert.ok(Array.isArray(parseJsonBody(arrays(MAX_JSON_DEPTH))));
    assert.equal(typeof parseJsonBody(objects(MAX_JSON_DEPTH)), 'object');
    refusedWith('NESTING_TOO_DEEP', arrays(MAX_JSON_DEPTH + 1));
    refusedWith('NESTING_TOO_DEEP', objects(MAX_JSON_DEPTH + 1));
    refusedWith('NESTING_TOO_DEEP', objects(100_000));
    refusedWith('NESTING_TOO_DEEP', '['.repeat(1_000_000));
    // Siblings do not add up, and brackets inside strings do not count.
    assert.equal(
      (
        parseJsonBody(
          `[${Array(1000)
            .fill(arrays(MAX_JSON_DEPTH - 1))
            .join(',')}]`,
        ) as unknown[]
      ).length,
      1000,
    );
    assert.equal(parseJsonBody(`"${'['.repeat(1000)}"`), '['.repeat(1000));
    assert.equal(parseJsonBody(`"${'\\"['.repeat(1000)}"`), '"['.repeat(1000));
  });

  it('decodes UTF-8 bytes and refuses bytes that are not UTF-8', () => {
    assert.deepEqual(parseJsonBody(Buffer.from('{"a": "中文 😀 é", "id": 1234567890123456789}')), {
      a: '中文 😀 é',
      id: '1234567890123456789',
    });
    assert.deepEqual(parseJsonBody(Buffer.from('\ufeff{"a": 1}')), { a: 1 }, 'a byte order mark is ignored');
    for (const bytes of [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xf8, 0x88, 0x80, 0x80, 0x80]]) {
      const body = Buffer.concat([Buffer.from('{"a": "'), Buffer.from(bytes), Buffer.from('"}')]);
      refusedWith('INVALID_JSON', body);
    }
  });

  it('refuses NUL and lone surrogates in values and keys, naming where', () => {
    const cases: [string, string][] = [
      ['{"a": "x\\u0000"}', '/a'],
      ['{"a": ["ok", {"b": "\\u0000"}]}', '/a/1/b'],
      ['{"a\\u0000": 1}', '/a\uFFFD'],
      ['{"a/b~c": "\\ud800"}', '/a~1b~0c'],
      ['{"a": "\\udc00"}', '/a'],
      ['{"a": "\\ude00\\ud83d"}', '/a'],
      ['"\\u0000"', '/'],
    ];
    for (const [text, path] of cases) {
      const e = refusedWith('VALIDATION_FAILED', text);
      assert.deepEqual((e.details as { path: string }[])[0]!.path, path, text);
    }
    // A raw NUL or lone surrogate handed over as a string (not from the wire) is refused too.
    refusedWith('VALIDATION_FAILED', '{"a": "\ud800"}');
    // A well-formed pair, U+FFFF and an escaped backslash followed by "u0000" are fine.
    assert.deepEqual(parseJsonBody('{"a": "\\ud83d\\ude00", "b": "\\uffff", "c": "\\\\u0000"}'), {
      a: '😀',
      b: '\uffff',
      c: '\\u0000',
    });
  });
});

/**
 * Whole requests for one route, generated from its OpenAPI operation: path params (the caller's real ids,
 * another tenant's, values of the schema, garbage), query strings (valid, refused, unknown and repeated keys),
 * bodies (valid, with one defect, or not JSON at all), and headers (content types, every way of sending a token
 * or none, DataArts' workspace / X-Project-Id, Idempotency-Key).
 */
import fc from 'fast-check';
import type { RegisteredRoute } from '../../src/api/app.ts';
import { deepJson, HOSTILE_STRINGS, invalid, valid, type Schema } from './schema-arbitraries.ts';
import { OTHER_PROJECT, PROJECT, type World } from './world.ts';

export interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
}

interface Param {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema: Schema;
}

export interface Operation {
  route: RegisteredRoute;
  params: Param[];
  body?: Schema;
}

/** The OpenAPI operation of a registered route (none for hidden routes: docs, the UI's static files). */
export function operationOf(doc: any, route: RegisteredRoute): Operation {
  const path = route.url.replace(/:(\w+)/g, '{$1}');
  const op = doc.paths[path]?.[route.method.toLowerCase()];
  const params: Param[] = (op?.parameters ?? []).map((p: any) => ({
    name: p.name,
    in: p.in,
    required: p.required,
    schema: p.schema ?? {},
  }));
  // Path params the document does not describe (hidden routes): plain strings.
  for (const m of route.url.matchAll(/:(\w+)/g))
    if (!params.some((p) => p.in === 'path' && p.name === m[1]))
      params.push({ name: m[1]!, in: 'path', required: true, schema: { type: 'string' } });
  const body = op?.requestBody?.content?.['application/json']?.schema;
  return { route, params, ...(body ? { body } : {}) };
}

const GARBAGE_SEGMENTS = [
  '%00',
  '%ZZ',
  '%C0%AF',
  '%ED%A0%80',
  'x'.repeat(300),
  '..',
  '%2e%2e%2f',
  '-1',
  '1.5',
  '1e5',
  '99999999999999999999999',
  '0',
  ' ',
  '%20',
  "'",
  '%27%20or%201%3D1',
];

/** encodeURIComponent, with a lone surrogate written as the (invalid) UTF-8 bytes a careless client would send. */
function encode(v: string): string {
  return [...v]
    .map((c) =>
      c.length === 1 && /[\ud800-\udfff]/.test(c)
        ? `%ED%${(0xa0 + ((c.charCodeAt(0) >> 6) & 0x1f)).toString(16).toUpperCase()}%80`
        : encodeURIComponent(c),
    )
    .join('');
}

function kindOf(url: string): string | null {
  const m = /\/(items|tickets|batches)\/:id/.exec(url);
  return m ? m[1]! : null;
}

/** Plausible: what a real client of the caller's workspace sends. Hostile: anything, one part or many wrong. */
export type Mode = 'plausible' | 'hostile';

function pathParam(w: World, route: RegisteredRoute, p: Param, mode: Mode): fc.Arbitrary<string> {
  const kind = p.name === 'id' ? kindOf(route.url) : null;
  let pool = kind ? w.hints.byName[`$${kind}`] : p.name === 'id' ? undefined : w.hints.byName[p.name];
  // An event stream lasts until its batch ends: only batches that stay ended (and foreign or garbage ids).
  if (route.url.endsWith('/events')) pool = w.settledBatches;
  const foreign = w.foreign[kind ? `$${kind}` : p.name] ?? [];
  if (p.name === '*')
    return fc.constantFrom('', 'app.js', 'index.html', '..%2f..%2fetc%2fpasswd', '%00', 'x'.repeat(300));
  const schemaValue = valid(p.schema, w.hints, 2, p.name).map((v) => encode(String(v)));
  const garbage = fc.oneof(fc.constantFrom(...GARBAGE_SEGMENTS), fc.constantFrom(...HOSTILE_STRINGS).map(encode));
  if (mode === 'plausible' && pool?.length) return fc.constantFrom(...pool).map(encode);
  if (route.url.endsWith('/events')) {
    return fc.oneof(
      { arbitrary: fc.constantFrom(...pool!, ...foreign), weight: 6 },
      { arbitrary: fc.constantFrom(...GARBAGE_SEGMENTS.filter((g) => !/^[0-9]+$/.test(g))), weight: 1 },
    );
  }
  return fc.oneof(
    ...(pool?.length ? [{ arbitrary: fc.constantFrom(...pool).map(encode), weight: 6 }] : []),
    ...(foreign.length ? [{ arbitrary: fc.constantFrom(...foreign).map(encode), weight: 2 }] : []),
    { arbitrary: schemaValue, weight: 2 },
    { arbitrary: garbage, weight: 1 },
  );
}

function text(v: unknown): string {
  if (typeof v === 'string') return v;
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function queryString(w: World, params: Param[], mode: Mode): fc.Arbitrary<string> {
  if (mode === 'plausible') {
    const h = { ...w.hints, plausible: true };
    const one = (p: Param) =>
      fc
        .option(valid(p.schema, h, 2, p.name).map(text), { freq: p.required ? 1000 : 2 })
        .map((v) => (v === null ? '' : `${encode(p.name)}=${encode(v)}`));
    return fc.tuple(...params.map(one)).map((parts) => {
      const q = parts.filter((x) => x).join('&');
      return q ? `?${q}` : '';
    });
  }
  const one = (p: Param) =>
    fc.option(
      fc.oneof(
        { arbitrary: valid(p.schema, w.hints, 2, p.name).map(text), weight: 6 },
        { arbitrary: invalid(p.schema, w.hints, 2, p.name).map(text), weight: 2 },
        { arbitrary: fc.constantFrom(...HOSTILE_STRINGS), weight: 1 },
      ),
      { freq: p.required ? 8 : 2 },
    );
  const pairs = fc.tuple(
    ...params.map((p) => one(p).map((v) => (v === null ? [] : [[p.name, v] as [string, string]]))),
  );
  const extras = fc.array(
    fc.oneof(
      fc.tuple(fc.constantFrom('bogus', 'limit', 'user_id', '__proto__', 'a[b]'), fc.constantFrom('1', '', 'x', '%00')),
      fc
        .constantFrom(...params.map((p) => p.name), 'x')
        .chain((name) => fc.tuple(fc.constant(name), fc.constantFrom('1', 'me', 'true', '0'))),
    ),
    { maxLength: 2 },
  );
  return fc
    .tuple(pairs, extras, fc.constantFrom('', '', '', '', '&', '&%ZZ=1', '&a=%00', '&=&'))
    .map(([ps, ex, tail]) => {
      const all = [...ps.flat(), ...ex] as [string, string][];
      // An extra's '%00' goes out raw (a NUL in the URL); every other value is encoded as a client would.
      const q = all.map(([k, v]) => `${encode(k)}=${v === '%00' ? v : encode(v)}`).join('&') + tail;
      return q ? `?${q}` : '';
    });
}

const RAW_BODIES: readonly (string | Buffer)[] = [
  '',
  ' ',
  'null',
  '[]',
  '{',
  '{"a":1}{"b":2}',
  "{'a': 1}",
  '\ufeff{}',
  deepJson(65),
  deepJson(5000),
  `{"x": "${'a'.repeat(200_000)}"}`,
  `[${Array.from({ length: 20_000 }, (_, i) => i).join(',')}]`,
  `{"n": 1${'0'.repeat(400)}}`,
  '{"n": 1e400}',
  '{"s": "\\u0000"}',
  '{"s": "\\ud800"}',
  Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
];

function body(w: World, op: Operation, mode: Mode): fc.Arbitrary<string | Buffer | undefined> {
  if (mode === 'plausible')
    return op.body
      ? valid(op.body, { ...w.hints, plausible: true }).map((v) => JSON.stringify(v))
      : fc.constant(undefined);
  const raw = fc.constantFrom(...RAW_BODIES);
  if (!op.body) {
    return fc.oneof(
      { arbitrary: fc.constant(undefined), weight: 6 },
      { arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)), weight: 1 },
      { arbitrary: raw, weight: 1 },
    );
  }
  return fc.oneof(
    { arbitrary: valid(op.body, w.hints).map((v) => JSON.stringify(v)), weight: 5 },
    { arbitrary: invalid(op.body, w.hints).map((v) => JSON.stringify(v)), weight: 4 },
    { arbitrary: raw, weight: 1 },
    { arbitrary: fc.constant(undefined), weight: 1 },
  );
}

const CONTENT_TYPES = [
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/merge-patch+json',
  'application/json; charset=latin1',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/jsonx',
  ';;;',
];

function headers(w: World, mode: Mode): fc.Arbitrary<Record<string, string>> {
  const t = w.tokens;
  if (mode === 'plausible') {
    const who = fc.constantFrom(t.root, t.admin, t.member, t.member, t.approver);
    const auth = fc.oneof(
      who.map((v): Record<string, string> => ({ authorization: `Bearer ${v}` })),
      who.map((v): Record<string, string> => ({ 'x-auth-token': v })),
    );
    const idem = fc.option(fc.constantFrom('k1', 'k2', 'k3'), { freq: 3 });
    return fc
      .tuple(auth, idem)
      .map(([a, k]) => ({ ...a, workspace: w.ws, ...(k !== null ? { 'idempotency-key': k } : {}) }));
  }
  const token = fc.oneof(
    { arbitrary: fc.constantFrom(t.root, t.admin, t.member, t.member, t.approver, t.viewer, t.stranger), weight: 10 },
    {
      arbitrary: fc.constantFrom(
        'bg_invalid',
        'x',
        `${t.member}x`,
        t.member.toUpperCase(),
        ' ',
        '\t',
        'null',
        'Bearer',
      ),
      weight: 2,
    },
  );
  const auth = fc.oneof(
    { arbitrary: token.map((v): Record<string, string> => ({ authorization: `Bearer ${v}` })), weight: 6 },
    { arbitrary: token.map((v): Record<string, string> => ({ 'x-auth-token': v })), weight: 3 },
    {
      arbitrary: fc
        .tuple(token, token)
        .map(([a, b]): Record<string, string> => ({ authorization: `Bearer ${a}`, 'x-auth-token': b })),
      weight: 1,
    },
    { arbitrary: token.map((v): Record<string, string> => ({ authorization: `bearer    ${v}   ` })), weight: 1 },
    {
      arbitrary: fc.constantFrom<Record<string, string>>(
        {},
        { authorization: 'Basic dXNlcjpwYXNz' },
        { authorization: 'Bearer' },
        { authorization: t.member },
        { 'x-auth-token': '' },
      ),
      weight: 2,
    },
  );
  const dataarts = fc.record(
    {
      workspace: fc.oneof(
        { arbitrary: fc.constant(w.ws), weight: 6 },
        { arbitrary: fc.constantFrom(w.otherWs, PROJECT, 'garbage', '', '1'.repeat(19)), weight: 2 },
      ),
      'x-project-id': fc.constantFrom(PROJECT, OTHER_PROJECT, ''),
    },
    { requiredKeys: [] },
  );
  const idem = fc.option(
    fc.oneof(
      fc.constantFrom('k1', 'k2', 'k1'),
      fc.string({ unit: 'binary-ascii', maxLength: 40 }).filter((s) => /^[\x21-\x7e]*$/.test(s)),
      fc.constant('k'.repeat(300)),
    ),
    { freq: 3 },
  );
  return fc
    .tuple(auth, dataarts, idem)
    .map(([a, d, k]) => ({ ...a, ...(d as Record<string, string>), ...(k !== null ? { 'idempotency-key': k } : {}) }));
}

/** A request as one line, long parts cut. */
export function describeRequest(req: FuzzRequest): string {
  const cut = (v: string, n: number) => (v.length > n ? `${v.slice(0, n)}… (${v.length} chars)` : v);
  const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, cut(v, 80)]));
  const payload = req.payload === undefined ? '' : ` ${cut(String(req.payload), 300)}`;
  return `${req.method} ${cut(req.url, 300)} ${JSON.stringify(headers)}${payload}`;
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** Three plausible requests to two hostile ones: plausible ones get past validation and change things. */
export function requestArb(w: World, op: Operation): fc.Arbitrary<FuzzRequest> {
  return fc.oneof(
    { arbitrary: requestOf(w, op, 'plausible'), weight: 3 },
    { arbitrary: requestOf(w, op, 'hostile'), weight: 2 },
  );
}

function requestOf(w: World, op: Operation, mode: Mode): fc.Arbitrary<FuzzRequest> {
  const pathParams = op.params.filter((p) => p.in === 'path');
  const queryParams = op.params.filter((p) => p.in === 'query');
  const path = fc.tuple(...pathParams.map((p) => pathParam(w, op.route, p, mode))).map((values) => {
    let url = op.route.url;
    pathParams.forEach((p, i) => {
      url = p.name === '*' ? url.replace('*', values[i]!) : url.replace(`:${p.name}`, values[i]!);
    });
    return url;
  });
  // Now and then the same URL with another method: an unknown route, answered in the dialect's envelope.
  const hostile = mode === 'hostile';
  const method = hostile
    ? fc.oneof(
        { arbitrary: fc.constant(op.route.method), weight: 9 },
        { arbitrary: fc.constantFrom(...METHODS), weight: 1 },
      )
    : fc.constant(op.route.method);
  const contentType = hostile
    ? fc.oneof(
        { arbitrary: fc.constant('application/json'), weight: 6 },
        { arbitrary: fc.constantFrom(...CONTENT_TYPES), weight: 2 },
        { arbitrary: fc.constant(null), weight: 1 },
      )
    : fc.constant('application/json');
  return fc
    .record({
      method,
      path,
      query: queryString(w, queryParams, mode),
      body: body(w, op, mode),
      contentType,
      headers: headers(w, mode),
    })
    .map((r) => {
      const h: Record<string, string> = { ...r.headers };
      if (r.contentType !== null && (r.body !== undefined || r.contentType !== 'application/json'))
        h['content-type'] = r.contentType;
      const req: FuzzRequest = {
        method: r.method,
        url: r.path + r.query,
        headers: h,
        ...(r.body !== undefined ? { payload: r.body } : {}),
      };
      // fast-check prints a failing value whole; a 200 kB body would bury the report.
      Object.defineProperty(req, fc.toStringMethod, { value: () => describeRequest(req), enumerable: false });
      return req;
    });
}

/**
 * Limits are explicit: in the OpenAPI document every string a client sends (path, query, header, body) has a
 * maxLength and every array a maxItems, unless it is an enumeration (bounded by its values). The route fuzzer
 * probes each limit one past it; this check makes sure there is one to probe. Checked without a database.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { servedDocument } from '../../src/client/generate.ts';

/** Where a string or array may stay unbounded, and why. Empty: every one has its limit. */
const EXCEPTIONS: Readonly<Record<string, string>> = {};

type Schema = Record<string, any>;

function unbounded(doc: any, schema: Schema | undefined, where: string, out: string[], seen = new Set<Schema>()): void {
  if (!schema || typeof schema !== 'object' || seen.has(schema)) return;
  seen.add(schema);
  if (schema.$ref) return unbounded(doc, doc.components.schemas[schema.$ref.split('/').pop()], where, out, seen);
  for (const k of ['anyOf', 'oneOf', 'allOf'])
    (schema[k] ?? []).forEach((s: Schema) => unbounded(doc, s, where, out, seen));
  const enumerated = schema.enum !== undefined || schema.const !== undefined;
  if (schema.type === 'string' && !enumerated && schema.maxLength === undefined)
    out.push(`${where}: string without maxLength`);
  if (schema.type === 'array') {
    if (schema.maxItems === undefined) out.push(`${where}: array without maxItems`);
    unbounded(doc, schema.items, `${where}[]`, out, seen);
  }
  for (const [k, v] of Object.entries<Schema>(schema.properties ?? {})) unbounded(doc, v, `${where}.${k}`, out, seen);
  for (const v of Object.values<Schema>(schema.patternProperties ?? {})) unbounded(doc, v, `${where}.*`, out, seen);
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object')
    unbounded(doc, schema.additionalProperties, `${where}.*`, out, seen);
}

it('every string a client sends has a maxLength and every array a maxItems', async () => {
  const doc = (await servedDocument()) as any;
  const found: string[] = [];
  let checked = 0;
  for (const [path, ops] of Object.entries<any>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(ops)) {
      const at = `${method.toUpperCase()} ${path}`;
      for (const p of op.parameters ?? []) unbounded(doc, p.schema, `${at} ${p.in} ${p.name}`, found);
      const body = op.requestBody?.content?.['application/json']?.schema;
      if (body) unbounded(doc, body, `${at} body`, found);
      checked++;
    }
  }
  assert.ok(checked >= 70, `${checked} operations`);
  assert.deepEqual(
    found.filter((f) => !Object.keys(EXCEPTIONS).some((e) => f.startsWith(e))),
    [],
  );
});

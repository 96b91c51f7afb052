import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { GENERATED_SCHEMA, generateSchemaTypes, isNativePath, nativeDocument } from '../../src/client/generate.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('typed client', () => {
  it(
    'src/client/schema.d.ts is what the served OpenAPI document generates (else: npm run gen:client)',
    { timeout: 60_000 },
    async () => {
      const fresh = await generateSchemaTypes();
      const committed = readFileSync(ROOT + GENERATED_SCHEMA, 'utf8');
      if (fresh !== committed) {
        const a = committed.split('\n');
        const b = fresh.split('\n');
        const at = a.findIndex((line, i) => line !== b[i]);
        assert.fail(
          `${GENERATED_SCHEMA} drifted from the served document at line ${at + 1}:\n  committed: ${a[at]}\n  served:    ${b[at]}\nRun \`npm run gen:client\` and commit the result.`,
        );
      }
    },
  );

  it('is generated from the native API only, with the component schemas it reaches', () => {
    const doc = {
      openapi: '3.0.3',
      paths: {
        '/healthz': { get: {} },
        '/api/v1/me': { get: { responses: { 400: { $ref: '#/components/schemas/A' } } } },
        '/v1/hexabase': { get: { x: { $ref: '#/components/schemas/C' } } },
        '/openapi.json': {},
      },
      components: {
        schemas: { A: { properties: { b: { $ref: '#/components/schemas/B' } } }, B: {}, C: {} },
        securitySchemes: { bearer: {} },
      },
    };
    const out = nativeDocument(doc) as { paths: object; components: { schemas: object; securitySchemes: object } };
    assert.deepEqual(Object.keys(out.paths), ['/healthz', '/api/v1/me']);
    assert.deepEqual(Object.keys(out.components.schemas), ['A', 'B']);
    assert.deepEqual(Object.keys(out.components.securitySchemes), ['bearer']);
    assert.equal(isNativePath('/api/v1'), false);
    assert.equal(isNativePath('/api/v0/applications'), false);
  });

  it('is exported as batchgate/client', async () => {
    const pkg = JSON.parse(readFileSync(ROOT + 'package.json', 'utf8'));
    assert.equal(pkg.exports['./client'], './src/client/index.ts');
    assert.equal(pkg.bin.batchgate, 'bin/batchgate.js');
    const mod = await import('batchgate/client');
    assert.equal(typeof mod.createClient, 'function');
  });
});

/** `npm run gen:client`: regenerates src/client/schema.d.ts from the OpenAPI document the app serves. */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GENERATED_SCHEMA, generateSchemaTypes } from '../src/client/generate.ts';

writeFileSync(fileURLToPath(new URL(`../${GENERATED_SCHEMA}`, import.meta.url)), await generateSchemaTypes());
console.log(`wrote ${GENERATED_SCHEMA}`);

// The dashboard's API client is typed from the server's OpenAPI document: web/src/api/schema.d.ts records the
// fingerprint of the contract it was generated from, and must match the contract the server serves now.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { contractHash, hashLine, openApiDocument, SCHEMA_FILE } from '../web/scripts/openapi-doc.ts';

test('web/src/api/schema.d.ts was generated from the current OpenAPI contract (else: npm run web:api)', async () => {
  const first = readFileSync(SCHEMA_FILE, 'utf8').split('\n')[0];
  assert.equal(first, hashLine(contractHash(await openApiDocument())), 'The API changed since the dashboard types were generated: run `npm run web:api`.');
});

// `npm run web:api`: regenerates web/src/api/schema.d.ts from the server's OpenAPI document with openapi-typescript
// (installed in web/tools, which pins it with the TypeScript 5 it needs). test/web-api-types.test.ts fails when the
// file is stale.
import { writeFileSync } from 'node:fs';
import { contractHash, hashLine, openApiDocument, SCHEMA_FILE } from './openapi-doc.ts';

const tools = new URL('../tools/node_modules/openapi-typescript/dist/index.mjs', import.meta.url);
const { default: openapiTS, astToString } = await import(tools.href);
const doc = await openApiDocument();
const ast = await openapiTS(doc, { alphabetize: false });
writeFileSync(SCHEMA_FILE, `${hashLine(contractHash(doc))}\n${astToString(ast)}`);
console.log(`wrote ${SCHEMA_FILE.pathname}`);

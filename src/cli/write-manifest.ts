// `npm run manifest`: writes src/cli/manifest.json from the registry. Run it after adding or changing an operation
// (test/manifest.test.ts fails until you do).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { operations } from '../operations.ts';
import { MANIFEST_URL } from './contract.ts';
import { buildManifest, manifestText } from './manifest.ts';

const manifest = buildManifest(operations);
writeFileSync(MANIFEST_URL, manifestText(manifest));
console.log(`wrote ${fileURLToPath(MANIFEST_URL)}: ${manifest.operations.length} operations`);
// The registry opened nothing that must stay open; exit without waiting on any handle a module may have left.
process.exit(0);

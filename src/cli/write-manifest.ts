// `npm run manifest`: writes src/cli/manifest.json and manifest-outputs.json from the registry. Run it after adding
// or changing an operation (test/manifest.test.ts fails until you do).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { operations } from '../operations.ts';
import { MANIFEST_URL, OUTPUTS_URL } from './contract.ts';
import { manifestTexts } from './manifest.ts';

const { manifest, outputs, count } = manifestTexts(operations);
writeFileSync(MANIFEST_URL, manifest);
writeFileSync(OUTPUTS_URL, outputs);
console.log(`wrote ${fileURLToPath(MANIFEST_URL)} and ${fileURLToPath(OUTPUTS_URL)}: ${count} operations`);
// The registry opened nothing that must stay open; exit without waiting on any handle a module may have left.
process.exit(0);

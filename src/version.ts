// getBuiltinModule, not `import … from 'node:fs'`: the CLI loads this file, and the ESM import of node:fs costs it ~5 ms.
const { readFileSync } = process.getBuiltinModule('node:fs');
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
export const VERSION: string = pkg.version;

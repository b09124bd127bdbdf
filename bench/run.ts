// `npm run bench -- NAME [args…]`: runs bench/NAME.ts (DESIGN §2). A benchmark is a module at the top of bench/
// whose default export is `async (args: string[]) => void`; it prints its figures and, last, `ratio NAME: X`.
// Helpers that are not benchmarks (fixture servers, shared code) live in bench/lib/ and are never listed here.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export type Benchmark = (args: string[]) => Promise<void>;

const here = dirname(fileURLToPath(import.meta.url));
const NAME = /^[a-z0-9][a-z0-9_-]*$/;

function available(): string[] {
  return readdirSync(here)
    .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.endsWith('.d.ts'))
    .map((f) => f.slice(0, -'.ts'.length))
    .filter((n) => NAME.test(n))
    .sort();
}

function usage(message?: string): never {
  if (message) console.error(message);
  const names = available();
  console.error(`usage: npm run bench -- NAME [args…]\navailable benchmarks: ${names.length ? names.join(', ') : '(none)'}`);
  process.exit(2);
}

const [name, ...args] = process.argv.slice(2);
if (!name || name === '--help' || name === '-h') usage();
if (!NAME.test(name) || !available().includes(name)) usage(`unknown benchmark: ${name}`);

const mod = (await import(pathToFileURL(join(here, `${name}.ts`)).href)) as { default?: unknown };
if (typeof mod.default !== 'function') {
  console.error(`bench/${name}.ts has no default export (expected \`export default async function (args: string[]) {…}\`)`);
  process.exit(2);
}
try {
  await (mod.default as Benchmark)(args);
  // Exit explicitly: a benchmark that left a stray handle must not hang the run.
  process.exit(0);
} catch (err) {
  console.error(`\nbenchmark ${name} FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
}

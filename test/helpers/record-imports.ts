// `node --import ./test/helpers/record-imports.ts …`: records every module the process resolves (ESM imports and
// CommonJS requires alike, through a synchronous module.registerHooks resolve hook) and writes their URLs, one a
// line, to $OPSBASE_IMPORTS_LOG when the process exits. Used to check what a command loads.
import { writeFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const out = process.env.OPSBASE_IMPORTS_LOG;
if (!out) throw new Error('record-imports: set OPSBASE_IMPORTS_LOG to the file to write');
const urls = new Set<string>();
registerHooks({
  resolve(specifier, context, nextResolve) {
    const resolved = nextResolve(specifier, context);
    urls.add(resolved.url);
    return resolved;
  },
});
process.on('exit', () => writeFileSync(out, [...urls].join('\n')));

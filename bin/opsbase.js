#!/usr/bin/env node
// Entry for `npx opsbase` / the package bin. It starts on any Node >= 20 (package.json `engines` says what this file
// needs, nothing more): the sources are TypeScript run directly, which needs Node >= 22.18, so an older Node re-runs
// this command on the project's pinned Node 24 (the `node` devDependency in node_modules) and passes its exit on.
import module from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const main = join(root, 'src', 'main.ts');
const [major, minor] = process.versions.node.split('.').map(Number);
const canStripTypes = major > 22 || (major === 22 && minor >= 18);

// Node's on-disk compile cache (in the temp dir; nothing is cached when it is not writable) keeps the compiled
// and type-stripped modules between runs: the CLI starts about twice as fast from the second run on.
const compileCache = process.env.NODE_COMPILE_CACHE ?? join(tmpdir(), 'opsbase-compile-cache');

if (canStripTypes) {
  module.enableCompileCache?.(compileCache);
  await import(main);
} else {
  // CommonJS requires, not ESM imports: importing node:child_process or node:fs as ESM evaluates every lazy export
  // of the builtin (milliseconds of every start), and only this branch needs them.
  const require = module.createRequire(import.meta.url);
  const { spawn } = require('node:child_process');
  const { existsSync } = require('node:fs');
  const pinned = join(root, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(pinned)) {
    console.error(`opsbase needs Node >= 22.18 (found ${process.versions.node}); run \`npm ci\` to install the pinned Node 24.`);
    process.exit(2);
  }
  const child = spawn(pinned, [main, ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, NODE_COMPILE_CACHE: compileCache } });
  // A process manager stops `opsbase start` by signalling this process: pass it on, so the server drains and exits
  // instead of living on as an orphan. Ctrl-C on a terminal reaches the child by itself (one process group); a second
  // SIGINT would cut its drain short, so this process only waits for the child to finish.
  for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  process.on('SIGINT', () => {});
  child.on('error', (err) => {
    console.error(`opsbase: could not start the pinned Node at ${pinned}: ${err.message}`);
    process.exit(2);
  });
  child.on('exit', (code, signal) => {
    // Killed by a signal: die of the same signal, so the caller sees what happened.
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    process.exit(code ?? 1);
  });
}

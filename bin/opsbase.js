#!/usr/bin/env node
// Entry for `npx opsbase` / the package bin. The sources are TypeScript run directly (Node >= 22.18 strips
// types); when the node on the PATH is older, re-run with the project's pinned Node 24 from node_modules.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import module from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const main = join(root, 'src', 'main.ts');
const [major, minor] = process.versions.node.split('.').map(Number);
const canStripTypes = major > 22 || (major === 22 && minor >= 18);

// Every command loads the whole operation registry: Node's on-disk compile cache (in the temp dir; nothing is
// cached when it is not writable) takes about a quarter off each start after the first.
const compileCache = process.env.NODE_COMPILE_CACHE ?? join(tmpdir(), 'opsbase-compile-cache');

if (canStripTypes) {
  module.enableCompileCache?.(compileCache);
  await import(main);
} else {
  const pinned = join(root, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(pinned)) {
    console.error(`opsbase needs Node >= 22.18 (found ${process.versions.node}); run \`npm ci\` to install the pinned Node 24.`);
    process.exit(2);
  }
  const result = spawnSync(pinned, [main, ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, NODE_COMPILE_CACHE: compileCache } });
  process.exit(result.status ?? 1);
}

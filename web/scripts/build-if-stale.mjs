// Builds the dashboard into web/dist when a source is newer than the last build (or there is none), so
// `npm ci && npm start` and `npm test` always serve a current dashboard with no step to remember. Skipping costs a
// directory walk (milliseconds); a build takes 2–10 s on 2 cores. Plain JavaScript, so it runs on any Node even
// where the pinned one is absent (`npm ci --omit=dev`, which also has no Vite: then it says so and keeps what exists).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const web = fileURLToPath(new URL('..', import.meta.url));
const stamp = join(web, 'dist', '.built');
const vite = join(web, '../node_modules/vite/bin/vite.js');
const inputs = ['src', 'public', 'index.html', 'vite.config.ts', '../package-lock.json'];

function newest(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(path).map((f) => newest(join(path, f))));
}

const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
const changed = Math.max(...inputs.map((p) => newest(join(web, p))));
if (built >= changed && !process.argv.includes('--force')) process.exit(0);
if (!existsSync(vite)) {
  console.error(`The dashboard's build tools are not installed (npm ci without dev dependencies): ${built ? 'serving the existing build' : 'the dashboard is not built'}.`);
  process.exit(0);
}

console.error('Building the dashboard (web/ → web/dist)…');
const started = Date.now();
const run = spawnSync(process.execPath, [vite, 'build', '--config', join(web, 'vite.config.ts'), '--logLevel', 'warn'], { stdio: 'inherit' });
if (run.status !== 0) process.exit(run.status ?? 1);
// Brotli and gzip copies beside each text asset, served by @fastify/static's preCompressed to browsers that take
// them: the shell's ~350 KB of JavaScript crosses the network as under 100 KB, with no compression work per request.
const dist = join(web, 'dist');
const walk = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
for (const file of walk(dist).filter((f) => /\.(js|css|html|svg)$/.test(f))) {
  const raw = readFileSync(file);
  if (raw.length < 1024) continue;
  writeFileSync(`${file}.br`, brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
  writeFileSync(`${file}.gz`, gzipSync(raw, { level: 9 }));
}
writeFileSync(stamp, new Date().toISOString());
console.error(`Dashboard built in ${((Date.now() - started) / 1000).toFixed(1)} s.`);

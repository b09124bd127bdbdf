// Builds the dashboard into web/dist when a source is newer than the last build (or there is none), so
// `npm ci && npm start` and `npm test` always serve a current dashboard with no step to remember. Skipping costs a
// directory walk (milliseconds); a build about 5–10 s on 2 cores.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = fileURLToPath(new URL('..', import.meta.url));
const stamp = join(web, 'dist', '.built');
const inputs = ['src', 'public', 'index.html', 'vite.config.ts', '../package-lock.json'];

function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(path).map((f) => newest(join(path, f))));
}

const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
const changed = Math.max(...inputs.map((p) => newest(join(web, p))));
if (built >= changed && !process.argv.includes('--force')) process.exit(0);

console.error('Building the dashboard (web/ → web/dist)…');
const started = Date.now();
const vite = spawnSync(process.execPath, [join(web, '../node_modules/vite/bin/vite.js'), 'build', '--config', join(web, 'vite.config.ts'), '--logLevel', 'warn'], {
  stdio: 'inherit',
});
if (vite.status !== 0) process.exit(vite.status ?? 1);
writeFileSync(stamp, new Date().toISOString());
console.error(`Dashboard built in ${((Date.now() - started) / 1000).toFixed(1)} s.`);

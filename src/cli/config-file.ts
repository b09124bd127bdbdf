// The saved login (`opsbase login`): $XDG_CONFIG_HOME/opsbase/config.json, default ~/.config/opsbase/config.json.
// It holds a bearer credential, so the file is 0600 and its directory 0700 — re-applied on every write, because a
// file created by an older version or by hand may be readable by others.
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { cliEnv } from './env.ts';

// Not `import … from 'node:fs'`, which costs ~5 ms of every CLI start (see src/cli/contract.ts).
const { chmodSync, mkdirSync, readFileSync, writeFileSync } = process.getBuiltinModule('node:fs');

export interface SavedConfig {
  api_url?: string;
  /** A session token (`obs_…`) or an API key (`obk_live_…`). */
  token?: string;
  refresh_token?: string;
  user_id?: string;
  email?: string;
  org_id?: string;
}

export function configPath(): string {
  const { XDG_CONFIG_HOME, HOME } = cliEnv();
  return join(XDG_CONFIG_HOME || join(HOME || homedir(), '.config'), 'opsbase', 'config.json');
}

/** The saved config, or `{}` when there is none. A corrupt file is an error: silently ignoring it would log the user out. */
export function readSaved(): SavedConfig {
  let text: string;
  try {
    text = readFileSync(configPath(), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as SavedConfig) : {};
  } catch {
    throw new Error(`${configPath()} is not valid JSON: fix it or delete it and run \`opsbase login\` again.`);
  }
}

export function writeSaved(value: SavedConfig): string {
  const path = configPath();
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  chmodSync(dirname(path), 0o700);
  // `mode` only applies when the file is created; chmod covers an existing one.
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return path;
}

/** Forgets the credential but keeps where the server is, so a later `opsbase login` needs no `--api-url`. */
export function clearCredential(): string {
  const { token: _t, refresh_token: _r, user_id: _u, email: _e, ...rest } = readSaved();
  return writeSaved(rest);
}

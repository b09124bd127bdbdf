// The master key encrypting secrets at rest: OPSBASE_MASTER_KEY (32 bytes as base64 or hex), or else a key file
// created once with mode 0600 in the data dir. Several instances must share it: set OPSBASE_MASTER_KEY for them.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function parseMasterKey(value: string, from: string): Buffer {
  const text = value.trim();
  const key = /^[0-9a-f]{64}$/i.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  if (key.length !== 32) throw new Error(`${from} must hold 32 bytes as 64 hex characters or base64 (found ${key.length} bytes).`);
  return key;
}

export function loadMasterKey(cfg: { OPSBASE_MASTER_KEY?: string; dataDir: string }): Buffer {
  if (cfg.OPSBASE_MASTER_KEY) return parseMasterKey(cfg.OPSBASE_MASTER_KEY, 'OPSBASE_MASTER_KEY');
  const file = join(cfg.dataDir, 'master.key');
  if (!existsSync(file)) {
    mkdirSync(cfg.dataDir, { recursive: true, mode: 0o700 });
    // `wx`: two processes creating it at once cannot overwrite each other's key.
    try {
      writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return parseMasterKey(readFileSync(file, 'utf8'), file);
}

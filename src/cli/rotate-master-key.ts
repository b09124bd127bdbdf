// `opsbase credentials rotate-master-key`: a local command, like `opsbase init`, acting on the database directly —
// not an API operation, because the master key is the instance's, not an org's, and it lives in the server's
// environment or data dir, which only someone at the server can change. Stop every server and worker first: a
// running one keeps the old key in memory and could not open what was re-encrypted (restart them after).
//
// Embedded key file (no OPSBASE_MASTER_KEY): a new key is generated and written to `master.key.new` (0600) BEFORE
// the transaction, so a crash can never leave data sealed under a key that was not saved; after the commit the old
// file becomes `master.key.bak-<time>` and the new one `master.key`. With OPSBASE_MASTER_KEY set, the new key comes
// from --new-key-stdin (or --new-key) and the operator puts it in the environment of every instance.
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeServices, openServices } from '../app.ts';
import { config } from '../config.ts';
import { parseMasterKey } from '../core/master-key.ts';
import { createLogger } from '../http/logger.ts';
import { type RotationResult, reencryptAll } from '../modules/credentials/rotation.ts';

export interface RotateOptions {
  /** The new key (64 hex characters or base64 of 32 bytes); generated when absent and the key file is used. */
  newKey?: string;
}

export interface RotateOutcome extends RotationResult {
  key_source: 'file' | 'env';
  key_file?: string;
  backup_file?: string;
  next_steps: string;
}

export async function runRotateMasterKey(opts: RotateOptions): Promise<RotateOutcome> {
  const cfg = config();
  const fromEnv = Boolean(cfg.OPSBASE_MASTER_KEY);
  if (fromEnv && !opts.newKey) {
    throw new Error('OPSBASE_MASTER_KEY is set: give the new key with --new-key-stdin (64 hex characters or base64 of 32 bytes).');
  }
  const newKeyText = opts.newKey?.trim() ?? randomBytes(32).toString('base64');
  const newKey = parseMasterKey(newKeyText, 'the new key');
  const log = createLogger(cfg.LOG_LEVEL === 'info' ? 'warn' : cfg.LOG_LEVEL, process.stderr);
  const services = await openServices(cfg, log);
  const keyFile = join(cfg.dataDir, 'master.key');
  const pending = `${keyFile}.new`;
  try {
    if (!fromEnv) writeFileSync(pending, newKeyText, { mode: 0o600 });
    let result: RotationResult;
    try {
      result = await reencryptAll(services.database.db, services.masterKey, newKey);
    } catch (err) {
      // Nothing was committed: the pending key is of no use. (After a commit it is never removed.)
      if (!fromEnv) rmSync(pending, { force: true });
      throw err;
    }
    if (fromEnv) {
      return {
        ...result,
        key_source: 'env',
        next_steps: 'Every value is now encrypted under the new key: set OPSBASE_MASTER_KEY to it for every server and worker, then restart them.',
      };
    }
    const backup = `${keyFile}.bak-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    if (existsSync(keyFile)) {
      copyFileSync(keyFile, backup);
      chmodSync(backup, 0o600);
    }
    renameSync(pending, keyFile);
    return {
      ...result,
      key_source: 'file',
      key_file: keyFile,
      backup_file: backup,
      next_steps: `The new key is in ${keyFile}; the old one is kept in ${backup} (delete it once you have a backup made after this change). Restart every server and worker.`,
    };
  } finally {
    await closeServices(services);
  }
}

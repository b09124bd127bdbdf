// Master-key rotation: every value sealed under the master key is opened with the old key and sealed with the new
// one, in ONE transaction — either all of them move to the new key or none does. Writers of those tables wait on
// table locks meanwhile, so nothing new is sealed under the old key between the read and the commit.
//
// ENCRYPTED holds every such column. A column named `*_encrypted` that is missing here makes the rotation refuse to
// run (a module added one and forgot to register it): better than leaving values no key can open.
import { sql } from 'drizzle-orm';
import { decrypt, encrypt } from '../../core/crypto.ts';
import type { Db } from '../../db/client.ts';

interface EncryptedColumn {
  table: string;
  column: string;
  /** A jsonb column holding the sealed text as a JSON string (idempotency replays). */
  json?: boolean;
}

export const ENCRYPTED: EncryptedColumn[] = [
  { table: 'credentials', column: 'value_encrypted' },
  { table: 'agents', column: 'provider_key_encrypted' },
  { table: 'agents', column: 'key_secret_encrypted' },
  { table: 'webhooks', column: 'secret_encrypted' },
  { table: 'idempotency_keys', column: 'response_body', json: true },
];

export interface RotationResult {
  columns: { table: string; column: string; rows: number }[];
  total: number;
}

export class RotationError extends Error {}

export async function reencryptAll(db: Db, oldKey: Buffer, newKey: Buffer): Promise<RotationResult> {
  if (oldKey.equals(newKey)) throw new RotationError('The new master key is the same as the current one.');
  return db.transaction(async (tx) => {
    const { rows: named } = await tx.execute<{ table_name: string; column_name: string }>(
      sql`select table_name, column_name from information_schema.columns where table_schema = current_schema() and column_name like '%\_encrypted'`,
    );
    const unknown = named.filter((c) => !ENCRYPTED.some((e) => e.table === c.table_name && e.column === c.column_name));
    if (unknown.length) {
      throw new RotationError(
        `Refusing to rotate: ${unknown.map((c) => `${c.table_name}.${c.column_name}`).join(', ')} looks encrypted but is not in the rotation list (src/modules/credentials/rotation.ts).`,
      );
    }
    const tables = [...new Set(ENCRYPTED.map((e) => e.table))];
    await tx.execute(sql.raw(`lock table ${tables.map((t) => `"${t}"`).join(', ')} in share row exclusive mode`));
    const columns: RotationResult['columns'] = [];
    for (const e of ENCRYPTED) {
      const t = sql.identifier(e.table);
      const c = sql.identifier(e.column);
      const { rows } = await tx.execute<{ tid: string; sealed: string }>(
        e.json
          ? sql`select ctid::text as tid, ${c} #>> '{}' as sealed from ${t} where jsonb_typeof(${c}) = 'string' and ${c} #>> '{}' like 'v1.%'`
          : sql`select ctid::text as tid, ${c} as sealed from ${t} where ${c} is not null`,
      );
      const tids: string[] = [];
      const values: string[] = [];
      for (const r of rows) {
        let plain: string;
        try {
          plain = decrypt(r.sealed, oldKey);
        } catch {
          // The row, never the value: nothing secret in an error message.
          throw new RotationError(`${e.table}.${e.column} (row ${r.tid}) does not decrypt with the current master key: nothing was changed.`);
        }
        tids.push(r.tid);
        values.push(encrypt(plain, newKey));
      }
      if (tids.length) {
        const value = e.json ? sql`to_jsonb(v.sealed)` : sql`v.sealed`;
        await tx.execute(
          sql`update ${t} set ${c} = ${value} from unnest(${sql.param(tids)}::tid[], ${sql.param(values)}::text[]) as v(tid, sealed) where ${t}.ctid = v.tid`,
        );
      }
      columns.push({ table: e.table, column: e.column, rows: tids.length });
    }
    return { columns, total: columns.reduce((n, c) => n + c.rows, 0) };
  });
}

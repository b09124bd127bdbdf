// orgs.export / orgs.import: everything one org owns, as one archive (the backup format, kind `org`), ids preserved,
// carried into another instance. What travels: see org-plan.ts. Members' user rows travel with their password hashes
// (scrypt), so they sign in on the new instance with the password they had; sessions do not travel. API keys are
// stored as SHA-256 hashes and keep working. Secrets sealed under the source's master key (agents' provider keys,
// webhook secrets, the vault) stay readable only where the same OPSBASE_MASTER_KEY is set: the import says how many
// it cannot open.
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import type { Ctx } from '../../core/context.ts';
import { decrypt } from '../../core/crypto.ts';
import { AppError, conflict, forbidden, invalid, unprocessable } from '../../core/errors.ts';
import type { BinaryBody } from '../../core/operation.ts';
import { recordActivity } from '../activity/record.ts';
import { ArchiveError, type ArchiveHeader, ArchiveWriter, archiveHeaderBase, openArchive } from './archive.ts';
import { appliedMigrations, listForeignKeys, listTables, type Table } from './catalog.ts';
import { SchemaMismatch, TableLoader } from './loader.ts';
import { planOrgExport } from './org-plan.ts';
import { copyTable, inSnapshot, serverVersionNum, storedColumns } from './snapshot.ts';

/**
 * The archive holds every credential of the org (members' password hashes, key hashes): a key needs the full `*`
 * scope (checked by the operation's scopes), a session must be the owner's or an instance admin's — not an org admin.
 */
function assertMayExport(ctx: Ctx) {
  if (!ctx.keyId && ctx.role !== 'owner' && !ctx.isInstanceAdmin) throw forbidden('Only the org’s owner (or an instance admin) may export it.');
}

export async function exportOrg(ctx: Ctx, orgId: string): Promise<BinaryBody> {
  assertMayExport(ctx);
  const dir = await mkdtemp(join(tmpdir(), 'opsbase-export-'));
  const file = join(dir, `${orgId}.jsonl.gz`);
  try {
    const rows = await inSnapshot(ctx.services.database.pool, async (client) => {
      const tables = await listTables(client);
      const plan = planOrgExport(tables, await listForeignKeys(client));
      const header: ArchiveHeader = {
        ...archiveHeaderBase(),
        kind: 'org',
        org_id: orgId,
        server_version_num: await serverVersionNum(client),
        migrations: await appliedMigrations(client),
        tables: plan.map((p) => ({ name: p.table.name, role: p.role, columns: storedColumns(p.table) })),
        sequences: [],
      };
      const writer = new ArchiveWriter(file);
      try {
        await writer.header(header);
        for (const p of plan) await copyTable(client, writer, p.table, { sql: p.where, params: [orgId] });
        return (await writer.finish()).end.total_rows;
      } catch (err) {
        await writer.abort();
        throw err;
      }
    });
    await recordActivity(ctx, { action: 'org.exported', entityType: 'org', entityId: orgId, metadata: { rows } });
    const stream = createReadStream(file);
    // The temporary copy goes once it has been sent (or the client went away).
    stream.on('close', () => void rm(dir, { recursive: true, force: true }));
    const { size } = await stat(file);
    return { body: stream, filename: `opsbase-org-${orgId}.jsonl.gz`, contentType: 'application/gzip', size };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Rows of a table that references itself (a task's parent), ordered so each comes after the row it points to. */
export function parentsFirst(rows: (string | null)[][], idIndex: number, refIndexes: number[]): (string | null)[][] {
  const byId = new Map(rows.map((r) => [r[idIndex], r]));
  const out: (string | null)[][] = [];
  const placed = new Set<string | null>();
  const visit = (r: (string | null)[], depth: number) => {
    if (placed.has(r[idIndex]) || depth > rows.length) return;
    for (const i of refIndexes) {
      const parent = r[i] !== null ? byId.get(r[i]) : undefined;
      if (parent && parent !== r) visit(parent, depth + 1);
    }
    placed.add(r[idIndex]);
    out.push(r);
  };
  for (const r of rows) visit(r, 0);
  return out;
}

const pgCode = (err: unknown) => (err as { code?: string }).code;

/** The archive's rows into this instance, in one transaction of its own; refuses an org id that exists (409). */
export async function importOrg(ctx: Ctx, bytes: Buffer | undefined) {
  if (!bytes?.length) throw invalid('Send the archive (from orgs.export) as the request body, with Content-Type: application/gzip.');
  const dir = await mkdtemp(join(tmpdir(), 'opsbase-import-'));
  const file = join(dir, 'org.jsonl.gz');
  await writeFile(file, bytes, { mode: 0o600 });
  const client = await ctx.services.database.pool.connect();
  try {
    let archive: Awaited<ReturnType<typeof openArchive>>;
    try {
      archive = await openArchive(file);
    } catch (err) {
      throw invalid(`The body is not an org archive: ${(err as Error).message.replace(file, 'it')}`);
    }
    const { header, items } = archive;
    if (header.kind !== 'org' || !header.org_id) throw invalid('This is a backup of a whole instance, not an org export: restore it with `opsbase restore`.');
    const orgId = header.org_id;
    await client.query('begin');
    const exists = await client.query('select 1 from orgs where id = $1', [orgId]);
    if (exists.rows.length) throw conflict(`Org ${orgId} already exists in this instance.`);
    const applied = await appliedMigrations(client);
    if (header.migrations.length > applied.length) {
      throw unprocessable(`The archive comes from a newer schema (${header.migrations.length} migrations; this instance has ${applied.length}): upgrade this instance first.`);
    }
    const tables = new Map((await listTables(client)).map((t) => [t.name, t]));
    const fks = await listForeignKeys(client);
    const meta = new Map(header.tables.map((t) => [t.name, t]));
    const pks = await primaryKeys(client);
    const stats = { tables: 0, rows: 0, parents_kept: 0, unreadable_secrets: 0 };
    /** One table being loaded: rows go straight to its loader, except a self-referencing table's (sorted first). */
    let current: { target: Table; loader: TableLoader; buffer: (string | null)[][] | null; seen: number; put: (r: (string | null)[]) => Promise<void> } | undefined;

    const open = (target: Table) => {
      const m = meta.get(target.name)!;
      const parent = m.role === 'parent';
      const loader = new TableLoader(client, target, m.columns, { skipIdentity: true, onConflictDoNothing: parent ? pks.get(target.name) : undefined });
      const selfRefs = fks.filter((fk) => fk.table === target.name && fk.refTable === target.name && fk.columns.length === 1);
      const sealed = m.columns.map((c, i) => (c.name.endsWith('_encrypted') ? i : -1)).filter((i) => i >= 0);
      // Being an instance admin there makes no one an instance admin here.
      const instanceRole = target.name === 'public.users' ? m.columns.findIndex((c) => c.name === 'role') : -1;
      const put = async (r: (string | null)[]) => {
        if (instanceRole >= 0) r[instanceRole] = 'user';
        for (const i of sealed) if (r[i] !== null && !opens(r[i]!, ctx.services.masterKey)) stats.unreadable_secrets++;
        await loader.add(r);
      };
      current = { target, loader, buffer: selfRefs.length ? [] : null, seen: 0, put };
    };

    const close = async () => {
      if (!current) return;
      const { target, loader, buffer, seen, put } = current;
      current = undefined;
      if (buffer) {
        // Self-references (a task's parent task): parents first.
        const m = meta.get(target.name)!;
        const selfRefs = fks.filter((fk) => fk.table === target.name && fk.refTable === target.name && fk.columns.length === 1);
        const idIndex = m.columns.findIndex((c) => c.name === selfRefs[0].refColumns[0]);
        const refs = selfRefs.map((fk) => m.columns.findIndex((c) => c.name === fk.columns[0]));
        for (const r of idIndex >= 0 ? parentsFirst(buffer, idIndex, refs) : buffer) await put(r);
      }
      await loader.flush();
      stats.tables++;
      stats.rows += loader.inserted;
      if (meta.get(target.name)!.role === 'parent') stats.parents_kept += seen - loader.inserted;
    };

    for await (const item of items) {
      if (item.kind === 'table') {
        await close();
        const target = tables.get(item.name);
        if (!target || !meta.has(item.name)) throw unprocessable(`This instance has no table ${item.name}: upgrade it first.`);
        open(target);
      } else if (item.kind === 'row') {
        if (!current) throw new ArchiveError('a row before any table');
        current.seen++;
        if (current.buffer) current.buffer.push(item.values);
        else await current.put(item.values);
      } else await close();
    }
    const ctxTx = { ...ctx, db: drizzle(client) as unknown as Ctx['db'] };
    await recordActivity({ ...ctxTx, orgId }, { action: 'org.imported', entityType: 'org', entityId: orgId, metadata: { ...stats, from_version: header.opsbase_version } });
    await client.query('commit');
    return { org_id: orgId, ...stats };
  } catch (err) {
    await client.query('rollback').catch(() => {});
    if (err instanceof AppError) throw err;
    if (err instanceof SchemaMismatch || err instanceof ArchiveError) throw unprocessable(err.message);
    if (pgCode(err) === '23505') throw conflict(`An object of the archive already exists in this instance: ${(err as Error).message}`);
    if (pgCode(err) === '23503') throw unprocessable(`The archive refers to something this instance lacks: ${(err as Error).message}`);
    throw err;
  } finally {
    client.release();
    await rm(dir, { recursive: true, force: true });
  }
}

function opens(sealed: string, key: Buffer): boolean {
  try {
    decrypt(sealed, key);
    return true;
  } catch {
    return false;
  }
}

async function primaryKeys(client: pg.ClientBase): Promise<Map<string, string[]>> {
  const { rows } = await client.query<{ table: string; columns: string[] }>(
    `select n.nspname || '.' || c.relname as "table",
            (select array_agg(a.attname::text order by k.i) from unnest(con.conkey) with ordinality k(n, i)
               join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.n) as columns
       from pg_constraint con join pg_class c on c.oid = con.conrelid join pg_namespace n on n.oid = c.relnamespace
      where con.contype = 'p' and n.nspname = 'public'`,
  );
  return new Map(rows.map((r) => [r.table, r.columns]));
}

// The archive format (built in, no pg_dump needed): gzip of JSON lines.
//   line 1      {"header": {format, version, kind, created_at, migrations, tables: [{name, columns}], sequences, …}}
//   per table   {"table": "public.tasks"}  then one JSON array per row: each value as PostgreSQL's own text form
//               (what COPY writes: round-trips every type exactly) or null, in the header's column order
//   last line   {"end": {"rows": {"public.tasks": 12, …}, "total_rows": 40}} — a file without it was cut short
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { createGunzip, createGzip } from 'node:zlib';
import { VERSION } from '../../version.ts';
import type { Column, SequenceState } from './catalog.ts';

export const ARCHIVE_FORMAT = 'opsbase-archive';
export const ARCHIVE_VERSION = 1;

export interface ArchiveHeader {
  format: typeof ARCHIVE_FORMAT;
  version: number;
  /** `instance`: every table of the database (backup); `org`: one org's rows (orgs.export). */
  kind: 'instance' | 'org';
  created_at: string;
  opsbase_version: string;
  /** `SHOW server_version_num` of the source (e.g. 180004). */
  server_version_num: number;
  /** The source's applied migrations, oldest first (drizzle's hash and timestamp): the schema version. */
  migrations: { hash: string; created_at: string }[];
  org_id?: string;
  /** An org export's `role`: `parent` rows (members' users) are kept when the target has them; `org` rows are the org's. */
  tables: { name: string; columns: Column[]; role?: 'parent' | 'org' }[];
  sequences: SequenceState[];
}

export interface ArchiveEnd {
  rows: Record<string, number>;
  total_rows: number;
}

/** Writes an archive to `<file>.partial`, renamed to `file` only when complete, so a crash never leaves a bad one. */
export class ArchiveWriter {
  private gzip = createGzip({ level: 6 });
  private out;
  private done: Promise<void>;
  private counts: Record<string, number> = {};
  private current: string | null = null;
  private readonly partial: string;
  private readonly file: string;

  constructor(file: string) {
    this.file = file;
    this.partial = `${file}.partial`;
    this.out = createWriteStream(this.partial, { mode: 0o600 });
    this.gzip.pipe(this.out);
    this.done = once(this.out, 'close').then(() => undefined);
    this.out.on('error', () => {});
  }

  private async line(value: unknown) {
    if (!this.gzip.write(`${JSON.stringify(value)}\n`)) await once(this.gzip, 'drain');
  }

  header(h: ArchiveHeader) {
    return this.line({ header: h });
  }

  async table(name: string) {
    this.current = name;
    this.counts[name] = 0;
    await this.line({ table: name });
  }

  async rows(rows: (string | null)[][]) {
    for (const r of rows) await this.line(r);
    this.counts[this.current!] += rows.length;
  }

  /** Writes the end line, closes the file and renames it into place. */
  async finish(): Promise<{ end: ArchiveEnd; sizeBytes: number; sha256: string }> {
    const end: ArchiveEnd = { rows: this.counts, total_rows: Object.values(this.counts).reduce((a, b) => a + b, 0) };
    await this.line({ end });
    this.gzip.end();
    await this.done;
    await rename(this.partial, this.file);
    const { size } = await stat(this.file);
    return { end, sizeBytes: size, sha256: await sha256File(this.file) };
  }

  async abort() {
    this.gzip.destroy();
    this.out.destroy();
    await rm(this.partial, { force: true });
  }
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export type ArchiveItem = { kind: 'table'; name: string } | { kind: 'row'; values: (string | null)[] } | { kind: 'end'; end: ArchiveEnd };

export class ArchiveError extends Error {}

/** Reads an archive: its header first, then its tables and rows in order; throws if the file is not one or is cut. */
export async function openArchive(file: string): Promise<{ header: ArchiveHeader; items: AsyncGenerator<ArchiveItem> }> {
  const input = createReadStream(file).pipe(createGunzip());
  const lines = createInterface({ input, crlfDelay: Infinity })[Symbol.asyncIterator]();
  let first: IteratorResult<string>;
  try {
    first = await lines.next();
  } catch {
    throw new ArchiveError(`${file} is not an Opsbase archive (not gzip).`);
  }
  let header: ArchiveHeader | undefined;
  try {
    header = first.done ? undefined : (JSON.parse(first.value) as { header?: ArchiveHeader }).header;
  } catch {}
  if (header?.format !== ARCHIVE_FORMAT) throw new ArchiveError(`${file} is not an Opsbase archive (no header).`);
  if (header.version > ARCHIVE_VERSION) {
    throw new ArchiveError(`${file} is archive format ${header.version}; this Opsbase reads up to ${ARCHIVE_VERSION}: upgrade Opsbase first.`);
  }
  async function* items(): AsyncGenerator<ArchiveItem> {
    let ended = false;
    try {
      for (;;) {
        const next = await lines.next();
        if (next.done) break;
        if (!next.value) continue;
        const v = JSON.parse(next.value) as unknown;
        if (Array.isArray(v)) yield { kind: 'row', values: v as (string | null)[] };
        else if (v && typeof v === 'object' && 'table' in v) yield { kind: 'table', name: String((v as { table: string }).table) };
        else if (v && typeof v === 'object' && 'end' in v) {
          ended = true;
          yield { kind: 'end', end: (v as { end: ArchiveEnd }).end };
        }
      }
    } catch (err) {
      throw new ArchiveError(`${file} is damaged: ${(err as Error).message}`);
    }
    if (!ended) throw new ArchiveError(`${file} is incomplete (it has no end line): the backup was cut short.`);
  }
  return { header, items: items() };
}

export const archiveHeaderBase = () => ({ format: ARCHIVE_FORMAT, version: ARCHIVE_VERSION, created_at: new Date().toISOString(), opsbase_version: VERSION }) as const;

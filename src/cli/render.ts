// What the CLI prints. `--json`: the API's body byte for byte on stdout (errors: the envelope on stderr), so
// scripts see exactly what the API returned. Otherwise tables for people. Colour only through picocolors, which
// honours NO_COLOR; cli-table3's own colouring is switched off because it does not.
import { createRequire } from 'node:module';
import type CliTable3 from 'cli-table3';
import type Picocolors from 'picocolors';
import type { ApiResult } from './client.ts';

// Required on first use: `--json` on success needs neither, and together (tty included) they are ~5 ms of a start.
const require = createRequire(import.meta.url);
let colors: typeof Picocolors | undefined;
const pc = (): typeof Picocolors => (colors ??= require('picocolors') as typeof Picocolors);
const Table = (): typeof CliTable3 => require('cli-table3') as typeof CliTable3;

const plain = { head: [] as string[], border: [] as string[] };

export function printJson(text: string) {
  if (text) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return pc().dim('-');
  if (Array.isArray(value)) return value.every((v) => v === null || typeof v !== 'object') ? value.join(',') : JSON.stringify(value);
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

const isScalar = (v: unknown) => v === null || typeof v !== 'object' || (Array.isArray(v) && v.every((x) => x === null || typeof x !== 'object'));

/** Nested objects become dotted rows (`org.name`), so `whoami` reads as one table. */
function flatten(obj: Record<string, unknown>, prefix = ''): [string, unknown][] {
  return Object.entries(obj).flatMap(([k, v]): [string, unknown][] =>
    v && typeof v === 'object' && !Array.isArray(v) ? flatten(v as Record<string, unknown>, `${prefix}${k}.`) : [[`${prefix}${k}`, v]],
  );
}

function isList(body: unknown): body is { data: Record<string, unknown>[]; meta?: { has_more?: boolean; next_cursor?: string | null } } {
  return !!body && typeof body === 'object' && Array.isArray((body as { data?: unknown }).data) && 'meta' in body;
}

function listTable(rows: Record<string, unknown>[], columns: string[] | undefined): string {
  if (rows.length === 0) return pc().dim('(none)');
  const first = rows[0] ?? {};
  const cols = columns?.length ? columns : Object.keys(first).filter((k) => isScalar(first[k]));
  const table = new (Table())({ head: cols.map((c) => pc().bold(c)), style: plain });
  for (const row of rows) table.push(cols.map((c) => cell(row?.[c])));
  return table.toString();
}

function objectTable(obj: Record<string, unknown>): string {
  const table = new (Table())({ style: plain });
  for (const [k, v] of flatten(obj)) table.push([pc().bold(k), cell(v)]);
  return table.toString();
}

type Grouped = { groups: { kind: string; total?: { label?: string }; hits: Record<string, unknown>[] }[] };

/** Results grouped by kind (`opsbase search`): a heading and a table of hits per group that has any. */
function isGrouped(body: unknown): body is Grouped {
  const groups = (body as { groups?: unknown } | null)?.groups;
  return Array.isArray(groups) && groups.every((g) => g && typeof g === 'object' && Array.isArray((g as { hits?: unknown }).hits));
}

function printGroups(body: Grouped) {
  const found = body.groups.filter((g) => g.hits.length > 0);
  if (!found.length) return console.log(pc().dim('(nothing matched)'));
  for (const g of found) {
    console.log(pc().bold(`${g.kind} (${g.total?.label ?? g.hits.length})`));
    console.log(listTable(g.hits, ['id', 'title', 'path']));
  }
}

/** Human output of a successful response. */
export function printHuman(body: unknown, columns?: string[]) {
  if (body === undefined) return;
  if (isGrouped(body)) printGroups(body);
  else if (isList(body)) {
    console.log(listTable(body.data, columns));
    // The hint goes to stderr so that stdout stays just the table when piped.
    if (body.meta?.has_more && body.meta.next_cursor) console.error(pc().dim(`more: --cursor ${body.meta.next_cursor}`));
  } else if (body && typeof body === 'object' && !Array.isArray(body)) {
    console.log(objectTable(body as Record<string, unknown>));
  } else {
    console.log(cell(body));
  }
}

/** An API error on stderr: the envelope itself with `--json`, else `error <code>: <message> (request <id>)`. */
export function printApiError(res: ApiResult, json: boolean | undefined, hint?: string) {
  const env = res.body as { error?: string; message?: string; request_id?: string } | undefined;
  if (json) {
    process.stderr.write(res.text.endsWith('\n') ? res.text : `${res.text}\n`);
    return;
  }
  if (env?.error) {
    const request = env.request_id ? ` ${pc().dim(`(request ${env.request_id})`)}` : '';
    console.error(`${pc().red('error')} ${env.error}: ${env.message ?? ''}${request}`);
  } else {
    // Not our envelope (a proxy page, an old server): say what came back rather than nothing.
    console.error(`${pc().red('error')} http_${res.status}: ${res.text.slice(0, 200) || 'empty response'}`);
  }
  if (hint) console.error(pc().dim(`hint: ${hint}`));
}

/** A failure of the CLI itself (unreachable server, bad config file); with `--json` shaped like the envelope. */
export function printLocalError(code: string, message: string, json: boolean | undefined) {
  if (json) console.error(JSON.stringify({ error: code, message }));
  else console.error(`${pc().red('error')} ${code}: ${message}`);
}

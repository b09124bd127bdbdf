// Command options from an operation's input JSON Schema: each field's kind (string, number, boolean,
// comma-separated list, JSON), its help text, and the parser that turns what was typed into what the API takes.
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { JsonSchema } from './contract.ts';

type Kind = 'string' | 'number' | 'boolean' | 'list' | 'json' | 'any';

export interface Field {
  name: string;
  kind: Kind;
  /** For lists: how each comma-separated item is parsed. */
  item?: Kind;
  nullable: boolean;
  required: boolean;
  help: string;
  /** A member of this object field (`budget`): its value goes to `input[parent][name]`. */
  parent?: string;
  /** The flag's name when it is not the field's (`--folder` for `folder_id`: the operation's `cli.flags`). */
  flag?: string;
}

const branches = (s: JsonSchema): JsonSchema[] => (s.anyOf ?? s.oneOf ?? [s]).flatMap((b) => (b.anyOf || b.oneOf ? branches(b) : [b]));

function typesOf(s: JsonSchema): string[] {
  return branches(s).flatMap((b) => {
    if (Array.isArray(b.type)) return b.type;
    if (b.type) return [b.type];
    if (b.const !== undefined) return [b.const === null ? 'null' : typeof b.const];
    return (b.enum ?? []).map((v) => (v === null ? 'null' : typeof v));
  });
}

function kindOf(s: JsonSchema): { kind: Kind; item?: Kind; nullable: boolean } {
  const all = typesOf(s);
  const types = [...new Set(all.filter((t) => t !== 'null').map((t) => (t === 'integer' ? 'number' : t)))];
  const nullable = all.includes('null');
  if (types.length !== 1) return { kind: 'any', nullable };
  const [t] = types;
  if (t === 'string' || t === 'number' || t === 'boolean') return { kind: t, nullable };
  if (t === 'array') {
    const items = branches(s).find((b) => b.items)?.items;
    const item = items ? kindOf(items).kind : 'any';
    return item === 'string' || item === 'number' ? { kind: 'list', item, nullable } : { kind: 'json', nullable };
  }
  return { kind: t === 'object' ? 'json' : 'any', nullable };
}

const FORMATS: Record<string, string> = { 'date-time': 'ISO 8601 date-time, e.g. 2030-01-31T12:00:00Z', uri: 'URL' };

export const kebab = (name: string) => name.replaceAll('_', '-');

export function fieldOf(name: string, s: JsonSchema, required: boolean): Field {
  const { kind, item, nullable } = kindOf(s);
  const enums = branches(s).flatMap((b) => b.enum ?? []);
  const format = branches(s).find((b) => b.format)?.format;
  const notes = [
    required ? 'required' : undefined,
    s.description ?? branches(s).find((b) => b.description)?.description,
    format ? (FORMATS[format] ?? format) : undefined,
    enums.length ? `one of: ${enums.join(', ')}` : undefined,
    kind === 'list' ? 'comma-separated' : kind === 'json' ? 'JSON' : undefined,
    // Shown, never sent: the server applies its own defaults when a field is left out.
    s.default !== undefined ? `server default: ${JSON.stringify(s.default)}` : undefined,
    nullable && kind !== 'boolean' ? `--no-${kebab(name)} sends null` : undefined,
  ];
  return { name, kind, item, nullable, required, help: notes.filter(Boolean).join('; ') };
}

/**
 * An object field of scalars (an agent's `budget`) also takes one flag per member — `--monthly-credits 100` beside
 * `--budget '{"monthly_credits":100}'` — when every member's name is free (`taken`: the command's other fields).
 */
export function memberFields(name: string, s: JsonSchema, taken: Set<string>): Field[] {
  const obj = branches(s).find((b) => b.properties && (b.type === 'object' || b.type === undefined));
  if (!obj?.properties) return [];
  const fields = Object.entries(obj.properties).map(([member, ms]) => {
    const f = fieldOf(member, ms, false);
    return { ...f, parent: name, help: `${name}.${member}${f.help ? `: ${f.help}` : ''}` };
  });
  return fields.every((f) => f.kind !== 'json' && f.kind !== 'any' && !taken.has(f.name)) ? fields : [];
}

function parseScalar(kind: Kind | undefined, value: string): unknown {
  if (kind === 'number') {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('Not a number.');
    return n;
  }
  if (kind === 'json' || kind === 'any') {
    try {
      return JSON.parse(value);
    } catch {
      // Free-form fields take plain text too; objects must be JSON.
      if (kind === 'any') return value;
      throw new InvalidArgumentError('Not valid JSON.');
    }
  }
  return value;
}

export function parserFor(f: Field) {
  if (f.kind !== 'list') return (value: string) => parseScalar(f.kind, value);
  // `--scopes a,b` or `--scopes a --scopes b`; an empty value is an empty list.
  return (value: string, previous: unknown) => {
    const items = value
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean)
      .map((v) => parseScalar(f.item, v));
    return Array.isArray(previous) ? [...previous, ...items] : items;
  };
}

const PLACEHOLDER: Record<Kind, string> = { string: 'value', number: 'number', boolean: '', list: 'list', json: 'json', any: 'value' };

export function addOption(cmd: Command, f: Field, reserved: Set<string>, opId: string) {
  const flag = `--${f.flag ?? kebab(f.name)}`;
  // Program-wide options are parsed before the command's own, so a field with the same name could never be set.
  if (reserved.has(flag)) throw new Error(`${opId}: input field \`${f.name}\` clashes with the global option ${flag}; rename the field`);
  const option = new Option(f.kind === 'boolean' ? flag : `${flag} <${PLACEHOLDER[f.kind]}>`, f.help);
  if (f.kind !== 'boolean') option.argParser(parserFor(f));
  if (f.required) option.makeOptionMandatory();
  cmd.addOption(option);
  const name = f.flag ?? kebab(f.name);
  if (f.kind === 'boolean') cmd.addOption(new Option(`--no-${name}`, `send ${f.name}: false`));
  else if (f.nullable) cmd.addOption(new Option(`--no-${name}`).hideHelp());
}

// A form generated from an operation's JSON Schema (path, query and body fields), with the server's validation
// message beside each field it names. Values are kept as text and converted on submit, so what the user typed is
// what the server judges (no client-side re-implementation of the rules).
import type { JsonSchema, OperationInfo } from '../api/spec';
import { Field, controlClass } from '../ui/field';

export interface FieldSpec {
  name: string;
  in: 'path' | 'query' | 'body';
  required: boolean;
  schema: JsonSchema;
  kind: 'text' | 'number' | 'boolean' | 'enum' | 'list' | 'json';
  options?: string[];
}

export type Values = Record<string, string>;

/** `anyOf: [X, null]` → X (nullability is "leave it empty"). */
function unwrap(s: JsonSchema): JsonSchema {
  const alts = s.anyOf ?? s.oneOf;
  if (alts) {
    const real = alts.filter((a) => a.type !== 'null');
    if (real.length === 1) return { ...real[0], description: s.description ?? real[0].description, default: s.default ?? real[0].default };
  }
  return s;
}

function kindOf(s: JsonSchema): Pick<FieldSpec, 'kind' | 'options'> {
  const t = Array.isArray(s.type) ? s.type.find((x) => x !== 'null') : s.type;
  if (s.enum) return { kind: 'enum', options: s.enum.map(String) };
  if (t === 'boolean') return { kind: 'boolean' };
  if (t === 'integer' || t === 'number') return { kind: 'number' };
  if (t === 'string') return { kind: 'text' };
  if (t === 'array' && s.items && ['string', 'integer', 'number'].includes(String(unwrap(s.items).type))) return { kind: 'list' };
  return { kind: 'json' };
}

export function fieldsOf(op: OperationInfo): FieldSpec[] {
  const fields: FieldSpec[] = op.params.map((p) => ({ name: p.name, in: p.in, required: p.required, schema: unwrap(p.schema), ...kindOf(unwrap(p.schema)) }));
  for (const [name, raw] of Object.entries(op.body?.properties ?? {})) {
    const schema = unwrap(raw);
    fields.push({ name, in: 'body', required: op.body?.required?.includes(name) ?? false, schema, ...kindOf(schema) });
  }
  return fields;
}

/** Text → JSON value, or undefined for "not given". Invalid JSON is sent as typed: the server says what is wrong. */
export function convert(f: FieldSpec, text: string): unknown {
  if (text === '') return undefined;
  switch (f.kind) {
    case 'number':
      return Number.isNaN(Number(text)) ? text : Number(text);
    case 'boolean':
      return text === 'true';
    case 'list':
      return text
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)
        .map((x) => (['integer', 'number'].includes(String(f.schema.items?.type)) && !Number.isNaN(Number(x)) ? Number(x) : x));
    case 'json':
      try {
        return JSON.parse(text);
      } catch {
        return text;
      }
    default:
      return text;
  }
}

export function SchemaForm({ fields, values, onChange, errorFor }: { fields: FieldSpec[]; values: Values; onChange: (v: Values) => void; errorFor: (f: FieldSpec) => string | undefined }) {
  const set = (name: string, v: string) => onChange({ ...values, [name]: v });
  return (
    <div className="grid gap-4 sm:grid-cols-2">
      {fields.map((f) => {
        const hint = [f.schema.description, f.kind === 'list' ? 'Comma-separated.' : '', f.kind === 'json' ? 'JSON.' : ''].filter(Boolean).join(' ');
        const label = (
          <>
            {f.name}
            {f.required && <span className="text-red-700 dark:text-red-300"> *</span>}
            <span className="ml-1 text-xs font-normal text-zinc-600 dark:text-zinc-400">({f.in})</span>
          </>
        );
        const value = values[f.name] ?? '';
        return (
          <div key={`${f.in}:${f.name}`} className={f.kind === 'json' ? 'sm:col-span-2' : ''}>
            <Field label={label} hint={hint || undefined} error={errorFor(f)}>
              {(a) =>
                f.kind === 'enum' || f.kind === 'boolean' ? (
                  <select className={controlClass} {...a} name={f.name} value={value} onChange={(e) => set(f.name, e.target.value)}>
                    <option value="">{f.required ? 'Choose…' : '(not set)'}</option>
                    {(f.kind === 'boolean' ? ['true', 'false'] : f.options!).map((o) => (
                      <option key={o} value={o}>
                        {o}
                      </option>
                    ))}
                  </select>
                ) : f.kind === 'json' ? (
                  <textarea className={`${controlClass} font-mono`} rows={4} {...a} name={f.name} value={value} onChange={(e) => set(f.name, e.target.value)} />
                ) : (
                  <input
                    className={controlClass}
                    {...a}
                    name={f.name}
                    inputMode={f.kind === 'number' ? 'numeric' : undefined}
                    placeholder={f.schema.default !== undefined ? `default ${JSON.stringify(f.schema.default)}` : undefined}
                    value={value}
                    onChange={(e) => set(f.name, e.target.value)}
                  />
                )
              }
            </Field>
          </div>
        );
      })}
    </div>
  );
}

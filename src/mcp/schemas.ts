// A tool's input and output schemas from its operation's contract. MCP wants both to be object schemas:
// - input: always a z.object, plus `confirm` for paid operations;
// - output: an object (or a `$ref` to one, or a union of objects) is declared as it is, its `$ref` resolved at the
//   top because MCP reads `type: 'object'` there; anything else (a list, a scalar, "anything") is declared as
//   `{ result: <the output> }` and the structured content is wrapped the same way. The text content is always the
//   API's JSON, unwrapped. Every tool declares an output schema, so clients can check every structured result.
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Contract, JsonSchema } from '../cli/contract.ts';

export const CONFIRM = 'confirm';

export function inputSchema(op: Contract): Tool['inputSchema'] {
  const properties = { ...(op.input.properties ?? {}) } as Record<string, object>;
  const required = [...(op.input.required ?? [])];
  if (op.cost > 0) {
    // Paid operations spend credits; an agent must opt in explicitly on every call.
    properties[CONFIRM] = { type: 'boolean', const: true, description: `Must be true: this call costs ${op.cost} credits.` };
    required.push(CONFIRM);
  }
  return { ...op.input, type: 'object', properties, ...(required.length ? { required } : {}) };
}

const refName = (ref: string) => (ref.startsWith('#/$defs/') ? ref.slice('#/$defs/'.length) : undefined);

function isObjectSchema(s: JsonSchema, defs: Record<string, JsonSchema>, seen = new Set<string>()): boolean {
  if (s.type === 'object') return true;
  const name = s.$ref && refName(s.$ref);
  if (name && !seen.has(name) && defs[name]) return isObjectSchema(defs[name], defs, new Set([...seen, name]));
  const union = s.anyOf ?? s.oneOf;
  return !!union?.length && union.every((b) => isObjectSchema(b, defs, seen));
}

export interface OutputShape {
  schema: NonNullable<Tool['outputSchema']>;
  /** The structured content is `{ result: body }`, not the body itself. */
  wrapped: boolean;
}

export function outputShape(op: Contract): OutputShape {
  const { $defs, ...root } = op.output;
  const defs = $defs ?? {};
  const keepDefs = $defs ? { $defs } : {};
  if (!isObjectSchema(root, defs)) {
    return { schema: { type: 'object', properties: { result: root as object }, required: ['result'], ...keepDefs }, wrapped: true };
  }
  const name = root.$ref && refName(root.$ref);
  // `{ $ref }` alone says nothing about `type` to a reader of the top level: inline the referenced definition
  // (it stays in $defs for the references inside it).
  const top = name ? { ...defs[name], ...Object.fromEntries(Object.entries(root).filter(([k]) => k !== '$ref')) } : root;
  return { schema: { ...top, type: 'object', ...keepDefs } as OutputShape['schema'], wrapped: false };
}

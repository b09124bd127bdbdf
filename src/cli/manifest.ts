// Contracts from the registry: what `npm run manifest` writes to src/cli/manifest.json and manifest-outputs.json,
// and what POST /mcp builds its tools from at run time (the server has the registry loaded anyway, including
// operations only a test adds).
import { z } from 'zod';
import type { Operation } from '../core/operation.ts';
import type { Contract, JsonSchema, Manifest, OutputsManifest } from './contract.ts';

export const REGENERATE = 'npm run manifest';

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  // `unrepresentable: 'any'`: a type JSON Schema cannot say (a transform, a date) reads as "anything" rather than
  // failing the whole document. The dialect line goes: MCP's validators read the schema as JSON Schema 2020-12 by
  // default, and the SDK's draft-07 validator refuses a `$schema` it does not know.
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

export function contractOf(op: Operation): Contract {
  return {
    id: op.id,
    method: op.method,
    path: op.path,
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    auth: op.auth,
    instanceAdmin: op.instanceAdmin,
    scopes: op.scopes,
    cost: op.cost,
    readOnly: op.readOnly,
    destructive: op.destructive,
    rawBody: op.rawBody,
    ...(op.binary ? { binary: true } : {}),
    ...(op.bytesOnly ? { bytesOnly: true } : {}),
    ...(op.upload ? { upload: { field: op.upload.field } } : {}),
    pathParams: op.pathParams,
    cli: {
      args: op.cli.args,
      ...(op.cli.columns ? { columns: op.cli.columns } : {}),
      ...(op.cli.watch ? { watch: true } : {}),
      ...(op.cli.wait ? { wait: op.cli.wait } : {}),
      ...(op.cli.name ? { name: op.cli.name } : {}),
      ...(op.cli.stdin ? { stdin: op.cli.stdin } : {}),
      ...(op.cli.upload ? { upload: op.cli.upload } : {}),
      ...(op.cli.flags ? { flags: op.cli.flags } : {}),
      ...(op.cli.files ? { files: op.cli.files } : {}),
      ...(op.cli.default ? { default: true } : {}),
    },
    ...(op.stream ? { stream: true } : {}),
    input: jsonSchema(op.input, 'input'),
    output: jsonSchema(op.output, 'output'),
  };
}

/** The two files' exact texts: one operation per block, so a changed operation is a readable diff. */
export function manifestTexts(operations: readonly Operation[]): { manifest: string; outputs: string; count: number } {
  const generated_by = `${REGENERATE} (from src/operations.ts; do not edit by hand)`;
  const all = operations.map(contractOf);
  const manifest: Manifest = { generated_by, operations: all.map(({ output: _output, ...cli }) => cli) };
  const outputs: OutputsManifest = { generated_by, outputs: Object.fromEntries(all.map((c) => [c.id, c.output])) };
  const text = (value: unknown) => `${JSON.stringify(value, null, 1)}\n`;
  return { manifest: text(manifest), outputs: text(outputs), count: all.length };
}

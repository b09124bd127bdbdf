// The operations the server offers, read from its OpenAPI document at run time: every one gets a generic page
// (web/src/pages/operation.tsx) unless a designed page covers it.
import { useQuery } from '@tanstack/react-query';

export type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  $ref?: string;
  description?: string;
  default?: unknown;
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  const?: unknown;
};

export interface OperationHints {
  cli: { args: string[]; columns?: string[]; watch?: boolean };
  cost: number;
  auth: 'public' | 'user' | 'org';
  instance_admin: boolean;
  destructive: boolean;
}

export interface Param {
  name: string;
  in: 'path' | 'query';
  required: boolean;
  schema: JsonSchema;
  description?: string;
}

export interface OperationInfo {
  id: string;
  method: string;
  path: string;
  summary: string;
  description?: string;
  tag: string;
  params: Param[];
  body?: JsonSchema;
  hints: OperationHints;
  /** A list (`{ data, meta }`) rather than one object. */
  isList: boolean;
}

type Doc = { paths: Record<string, Record<string, any>>; components?: { schemas?: Record<string, JsonSchema> } };

/** Inlines `$ref`s (the document's are local, `#/components/schemas/…`, and never recursive). */
export function resolve(doc: Doc, schema: JsonSchema | undefined, depth = 0): JsonSchema | undefined {
  if (!schema || depth > 12) return schema;
  if (schema.$ref) return resolve(doc, doc.components?.schemas?.[schema.$ref.split('/').pop()!], depth + 1);
  const out: JsonSchema = { ...schema };
  if (schema.properties) out.properties = Object.fromEntries(Object.entries(schema.properties).map(([k, v]) => [k, resolve(doc, v, depth + 1)!]));
  if (schema.items) out.items = resolve(doc, schema.items, depth + 1);
  if (schema.anyOf) out.anyOf = schema.anyOf.map((s) => resolve(doc, s, depth + 1)!);
  if (schema.oneOf) out.oneOf = schema.oneOf.map((s) => resolve(doc, s, depth + 1)!);
  return out;
}

export function operationsOf(doc: Doc): OperationInfo[] {
  const out: OperationInfo[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!op?.operationId || !op['x-opsbase']) continue;
      const ok = Object.entries<any>(op.responses ?? {}).find(([code]) => code.startsWith('2'))?.[1];
      const output = resolve(doc, ok?.content?.['application/json']?.schema);
      out.push({
        id: op.operationId,
        method: method.toUpperCase(),
        path,
        summary: op.summary ?? op.operationId,
        description: op.description,
        tag: op.tags?.[0] ?? op.operationId.split('.')[0],
        params: (op.parameters ?? []).map((p: any) => ({ ...p, schema: resolve(doc, p.schema) })),
        body: resolve(doc, op.requestBody?.content?.['application/json']?.schema),
        hints: op['x-opsbase'],
        isList: !!(output?.properties?.data && output.properties.meta),
      });
    }
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

export function useOperations(enabled = true) {
  return useQuery({
    enabled,
    queryKey: ['openapi'],
    queryFn: async () => operationsOf(await (await fetch('/api/openapi.json')).json()),
    staleTime: Number.POSITIVE_INFINITY,
  });
}

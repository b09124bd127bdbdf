// OpenAPI 3.1 generated from the registry's zod schemas, at /api/openapi.json, and the reference page at /api/docs.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import type { Operation } from '../core/operation.ts';
import type { AppServices } from '../core/services.ts';
import { VERSION } from '../version.ts';
import { UPLOAD_CONTENT_TYPES } from './upload.ts';

const BYTES = { type: 'string', format: 'binary' };

/**
 * `x-opsbase` on each operation: what the contract alone does not say but a generic client needs — the CLI's
 * table columns and positional args, the credits a call reserves, who may call it. The dashboard builds its
 * generic pages from these.
 */
const withOperationHints: typeof jsonSchemaTransform = (input) => {
  const out = jsonSchemaTransform(input);
  const op = (input.route.config as { op?: Operation } | undefined)?.op;
  if (!op) return out;
  const hints = { cli: op.cli, cost: op.cost, auth: op.auth, instance_admin: op.instanceAdmin, destructive: op.destructive };
  const schema = { ...out.schema, 'x-opsbase': hints } as Record<string, unknown> & { response?: Record<string, unknown> };
  // A `binary` operation answers with the bytes themselves, and unless it is bytes-only, with JSON when asked.
  if (op.binary && schema.response?.[op.status]) {
    const json = schema.response[op.status];
    const bytes = { 'application/octet-stream': { schema: BYTES } };
    schema.response = {
      ...schema.response,
      [op.status]: op.bytesOnly
        ? { description: 'The file itself (its own content type)', content: bytes }
        : { description: 'The bytes (any content type), or with `Accept: application/json` the JSON below', content: { ...bytes, 'application/json': { schema: json } } },
    };
  }
  // An `upload` takes the file itself (the other fields in the query string) or JSON with the bytes in base64.
  if (op.upload && schema.body) {
    schema.body = {
      description: `The file itself (its other fields in the query string), or JSON with the bytes base64-encoded in \`${op.upload.field}\``,
      content: { 'application/json': { schema: schema.body }, ...Object.fromEntries(UPLOAD_CONTENT_TYPES.map((t) => [t, { schema: BYTES }])) },
    };
  }
  return { ...out, schema };
};

export async function registerOpenApi(app: FastifyInstance, services: AppServices) {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Opsbase API',
        version: VERSION,
        description:
          'One org-scoped API for the operational layer of a business. Authenticate with `Authorization: Bearer <API key or session token>`. ' +
          'Errors are always `{ error, message, request_id, details? }`.',
      },
      servers: [{ url: services.config.OPSBASE_PUBLIC_URL ?? '/' }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'An API key (`obk_live_…`) or a session token from `auth.login`.' },
        },
      },
      security: [{ bearer: [] }],
    },
    transform: withOperationHints,
    transformObject: jsonSchemaTransformObject,
  });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(swaggerUi, { routePrefix: '/api/docs', uiConfig: { url: '/api/openapi.json' } as never });
}

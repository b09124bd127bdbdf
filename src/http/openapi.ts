// OpenAPI 3.1 generated from the registry's zod schemas, at /api/openapi.json, and the reference page at /api/docs.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import type { AppServices } from '../core/services.ts';
import { VERSION } from '../version.ts';

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
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(swaggerUi, { routePrefix: '/api/docs', uiConfig: { url: '/api/openapi.json' } as never });
}

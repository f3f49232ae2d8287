import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { VERSION } from '../version.js';

/**
 * `GET /openapi.json` (SPEC §15): an OpenAPI 3.1 document generated from the route schemas, so it
 * cannot drift from the routes. Must be registered before the routes it documents; only tagged
 * routes appear (the REST API and `/health`, not the 405 answers or the operations pages).
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'mcp-gateway REST API',
        version: VERSION,
        description: 'Tools of MCP servers, one supervised server per conversation (session id = call id).',
      },
      tags: [
        { name: 'rest', description: 'Services, tools, tool calls and sessions' },
        { name: 'operations', description: 'Health of the gateway' },
      ],
      components: {
        securitySchemes: {
          basicAuth: { type: 'http', scheme: 'basic' },
          bearerAuth: { type: 'http', scheme: 'bearer' },
        },
      },
      security: [{ basicAuth: [] }, { bearerAuth: [] }],
    },
    hideUntagged: true,
    exposeHeadRoutes: false,
  });
  app.get('/openapi.json', { config: { isPublic: true } }, async () => app.swagger());
}

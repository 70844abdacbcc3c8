import { Router } from 'express';
import { z } from 'zod';
import { ApiErrorBody } from '@gatehouse/shared';
import type { AppContext } from '../context.js';
import type { RestRoutes, RouteSpec } from './route.js';

const ERRORS: Record<string, string> = {
  '400': 'The request is not valid',
  '401': 'Not authenticated, or the token is not valid',
  '403': 'Missing scope, the CSRF check failed, or the change needs a (freshly signed-in) browser session',
  '404': 'Not found',
  '429': 'Too many requests',
};

type QuerySchema = { properties?: Record<string, object>; required?: string[] };

/** `/api/v1/me/tokens/:id` → `/api/v1/me/tokens/{id}` and its path parameters. */
function openapiPath(path: string): { path: string; params: string[] } {
  const params: string[] = [];
  return { path: path.replace(/:(\w+)/g, (_m, name: string) => (params.push(name), `{${name}}`)), params };
}

function operation(spec: RouteSpec, params: string[]) {
  const json = (schema: z.ZodType, io: 'input' | 'output') => ({ 'application/json': { schema: z.toJSONSchema(schema, { io }) } });
  // `browser` routes are the sign-in screens': the session cookie only, no scope.
  const scope = spec.scope !== 'public' && spec.scope !== 'browser' ? spec.scope : undefined;
  const isPublic = spec.scope === 'public';
  const query = spec.query ? (z.toJSONSchema(spec.query, { io: 'input' }) as QuerySchema) : undefined;
  return {
    summary: spec.summary,
    operationId: `${spec.method}${spec.path.replace(/\/api\/v1|:(\w+)|[^A-Za-z]/g, (m, p?: string) => (p ? `By${p}` : m === '/api/v1' ? '' : '_'))}`,
    security: isPublic ? [] : scope ? [{ bearer: [scope] }, { session: [] }] : [{ session: [] }],
    ...(scope && { 'x-required-scope': scope }),
    parameters: [
      ...params.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } })),
      ...Object.entries(query?.properties ?? {}).map(([name, schema]) => ({
        name,
        in: 'query',
        required: query?.required?.includes(name) ?? false,
        schema,
      })),
    ],
    ...(spec.body && { requestBody: { required: true, content: json(spec.body, 'input') } }),
    responses: {
      [String(spec.response ? spec.status || 200 : 204)]: spec.response
        ? { description: 'Success', content: json(spec.response, 'output') }
        : { description: 'Done' },
      ...Object.fromEntries(
        Object.entries(ERRORS).map(([status, description]) => [
          status,
          { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/ApiError' } } } },
        ]),
      ),
    },
  };
}

/** The OpenAPI 3.1 document, generated from the routes' own zod schemas. */
export function openapiDocument(ctx: AppContext, routes: RestRoutes): object {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of routes.specs) {
    const { path, params } = openapiPath(spec.path);
    (paths[path] ??= {})[spec.method] = operation(spec, params);
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Gatehouse identity API', version: '1' },
    servers: [{ url: ctx.config.issuer }],
    paths,
    components: {
      schemas: { ApiError: z.toJSONSchema(ApiErrorBody) },
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'A personal API token (gh_…) or an access token issued by Gatehouse' },
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: 'gatehouse_session',
          description: 'The browser session; state-changing calls also need the x-gatehouse-csrf header',
        },
      },
    },
  };
}

export function openapiRouter(ctx: AppContext, routes: RestRoutes): Router {
  const router = Router();
  const body = JSON.stringify(openapiDocument(ctx, routes));
  router.get('/api/v1/openapi.json', (_req, res) => {
    res.set('Cache-Control', 'no-cache').type('json').send(body);
  });
  return router;
}

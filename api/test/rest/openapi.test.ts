import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RequestHandler } from 'express';
import request from 'supertest';
import { Validator } from '@seriousme/openapi-schema-validator';
import { harness } from '../helpers/harness.js';

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1 and lists every REST route with its scope and schemas', async () => {
    const h = await harness();
    try {
      const res = await request(h.app).get('/api/v1/openapi.json').expect(200).expect('content-type', /json/);
      const doc = res.body as {
        openapi: string;
        paths: Record<string, Record<string, { 'x-required-scope': string; requestBody?: unknown }>>;
      };
      const result = await new Validator().validate(doc);
      assert.equal(result.valid, true, JSON.stringify(result.errors));
      assert.equal(doc.openapi, '3.1.0');

      const { jsonApiRouter } = await import('../../src/app.js');
      const { PerIpLimit } = await import('../../src/http/rate-limit.js');
      const { routes } = jsonApiRouter(h.ctx, new PerIpLimit(1000, 60), (_req, _res, next) => next());
      for (const spec of routes.specs) {
        const op = doc.paths[spec.path.replace(/:(\w+)/g, '{$1}')]?.[spec.method];
        assert.ok(op, `${spec.method} ${spec.path} is documented`);
        // Public routes take no credentials: openapi.ts gives them `security: []` and no scope.
        assert.equal(op['x-required-scope'], spec.scope === 'public' || spec.scope === 'browser' ? undefined : spec.scope);
        assert.equal(Boolean(op.requestBody), Boolean(spec.body));
      }
      assert.ok(routes.specs.length >= 3);
      const create = doc.paths['/api/v1/me/tokens']?.post as unknown as {
        requestBody: { content: { 'application/json': { schema: { required: string[] } } } };
      };
      assert.deepEqual(create.requestBody.content['application/json'].schema.required.sort(), ['expiresInDays', 'name', 'scopes']);
    } finally {
      await h.close();
    }
  });

  it('documents every route under /api/v1 that the app serves', async () => {
    const h = await harness();
    try {
      const doc = (await request(h.app).get('/api/v1/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
      const pass: RequestHandler = (_req, _res, next) => next();
      const { jsonApiRouter } = await import('../../src/app.js');
      const { PerIpLimit } = await import('../../src/http/rate-limit.js');
      const served: string[] = [];
      for (const router of [jsonApiRouter(h.ctx, new PerIpLimit(1000, 60), pass).router]) {
        for (const layer of router.stack as { route?: { path: string; methods: Record<string, boolean> } }[]) {
          if (!layer.route || !layer.route.path.startsWith('/api/v1/')) continue;
          for (const method of Object.keys(layer.route.methods)) served.push(`${method} ${layer.route.path}`);
        }
      }
      assert.ok(served.length >= 25, served.join('\n'));
      const missing = served.filter((r) => {
        const [method, path] = r.split(' ') as [string, string];
        return r !== 'get /api/v1/openapi.json' && !doc.paths[path.replace(/:(\w+)/g, '{$1}')]?.[method];
      });
      assert.deepEqual(missing, []);
    } finally {
      await h.close();
    }
  });
});

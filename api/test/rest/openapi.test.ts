import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
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

      const { restRouter } = await import('../../src/rest/index.js');
      const { routes } = restRouter(h.ctx, (_req, _res, next) => next());
      for (const spec of routes.specs) {
        const op = doc.paths[spec.path.replace(/:(\w+)/g, '{$1}')]?.[spec.method];
        assert.ok(op, `${spec.method} ${spec.path} is documented`);
        assert.equal(op['x-required-scope'], spec.scope);
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
});

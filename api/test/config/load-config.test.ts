import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/load.js';

const problemsOf = (env: NodeJS.ProcessEnv): string[] => {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  assert.fail('expected a ConfigError');
};

describe('configuration', () => {
  it('starts from defaults: port 3000, issuer http://localhost:3000, data in ./data', () => {
    const c = loadConfig({});
    assert.equal(c.port, 3000);
    assert.equal(c.issuer, 'http://localhost:3000');
    assert.equal(c.dataDir, './data');
    assert.equal(c.ttl.code, 60);
    assert.equal(c.rateLimit.login, 30);
    assert.deepEqual(c.clients, []);
  });

  it('derives the default issuer from the port and strips a trailing slash from a given one', () => {
    assert.equal(loadConfig({ GATEHOUSE_PORT: '8080' }).issuer, 'http://localhost:8080');
    assert.equal(loadConfig({ GATEHOUSE_ISSUER: 'https://id.example.org/' }).issuer, 'https://id.example.org');
  });

  it('names every bad field at once, by its environment variable', () => {
    const problems = problemsOf({
      GATEHOUSE_PORT: 'eighty',
      GATEHOUSE_ISSUER: 'ftp://id.example.org',
      GATEHOUSE_CODE_TTL: '3600',
      GATEHOUSE_ADMIN_PASSWORD: 'short',
      GATEHOUSE_TYPO: 'x',
    });
    assert.equal(problems.length, 5, problems.join('\n'));
    for (const name of ['GATEHOUSE_PORT', 'GATEHOUSE_ISSUER', 'GATEHOUSE_CODE_TTL', 'GATEHOUSE_ADMIN_PASSWORD', 'GATEHOUSE_TYPO']) {
      assert.ok(
        problems.some((p) => p.startsWith(name)),
        `${name} is not named in:\n${problems.join('\n')}`,
      );
    }
  });

  it('refuses a code lifetime above 10 minutes', () => {
    assert.ok(problemsOf({ GATEHOUSE_CODE_TTL: '601' })[0]!.startsWith('GATEHOUSE_CODE_TTL'));
    assert.equal(loadConfig({ GATEHOUSE_CODE_TTL: '600' }).ttl.code, 600);
  });

  it('validates the OpenBao settings at start: all three needed, a UUID method id, an http(s) address, no self-registration', () => {
    assert.match(problemsOf({ GATEHOUSE_IDENTITY_BACKEND: 'openbao' }).join('\n'), /GATEHOUSE_OPENBAO_ADDR, _TOKEN and _MFA_METHOD_ID/);
    const openbao = {
      GATEHOUSE_IDENTITY_BACKEND: 'openbao',
      GATEHOUSE_OPENBAO_ADDR: 'https://openbao.internal:8200',
      GATEHOUSE_OPENBAO_TOKEN: 's.service-token',
      GATEHOUSE_OPENBAO_MFA_METHOD_ID: '5f0c1e7a-3b2d-4c8e-9a61-7d4e2b9f0c11',
    };
    assert.equal(loadConfig(openbao).openbao?.userpassMount, 'userpass');
    assert.match(problemsOf({ ...openbao, GATEHOUSE_OPENBAO_MFA_METHOD_ID: 'totp' })[0]!, /GATEHOUSE_OPENBAO_MFA_METHOD_ID/);
    assert.match(problemsOf({ ...openbao, GATEHOUSE_OPENBAO_ADDR: 'openbao:8200' })[0]!, /GATEHOUSE_OPENBAO_ADDR/);
    assert.match(problemsOf({ ...openbao, GATEHOUSE_SELF_REGISTRATION: 'true' })[0]!, /GATEHOUSE_SELF_REGISTRATION.*sqlite backend/);
  });

  it('refuses an idle lifetime longer than the absolute one', () => {
    const problems = problemsOf({ GATEHOUSE_SESSION_IDLE_TTL: '7200', GATEHOUSE_SESSION_ABSOLUTE_TTL: '3600' });
    assert.match(problems[0]!, /GATEHOUSE_SESSION_IDLE_TTL/);
  });

  it('validates each client and points at the field', () => {
    const clients = [
      { client_id: 'ok', client_secret: 'x'.repeat(32), name: 'OK', redirect_uris: ['https://ok.example.org/cb'] },
      {
        client_id: 'bad',
        client_secret: 'short',
        name: 'Bad',
        redirect_uris: ['http://bad.example.org/cb', 'https://x.example.org/#frag'],
      },
      { client_id: 'pub', type: 'public', client_secret: 'y'.repeat(32), name: 'Pub', redirect_uris: ['myapp:/cb'] },
    ];
    const problems = problemsOf({ GATEHOUSE_CLIENTS: JSON.stringify(clients) });
    assert.ok(
      problems.some((p) => p.includes('(1.client_secret)')),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => p.includes('(1.redirect_uris.0)') && p.includes('https')),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => p.includes('(1.redirect_uris.1)') && p.includes('fragment')),
      problems.join('\n'),
    );
  });

  it('refuses a public client with a secret and a confidential one without', () => {
    const problems = problemsOf({
      GATEHOUSE_CLIENTS: JSON.stringify([
        { client_id: 'pub', type: 'public', client_secret: 'y'.repeat(32), name: 'Pub', redirect_uris: ['myapp:/cb'] },
        { client_id: 'conf', name: 'Conf', redirect_uris: ['https://c.example.org/cb'] },
      ]),
    });
    assert.ok(
      problems.some((p) => p.includes('(0.client_secret)') && p.includes('no secret')),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => p.includes('(1.client_secret)') && p.includes('exactly one')),
      problems.join('\n'),
    );
  });

  it('refuses a client registry that is not JSON, and duplicate client ids', () => {
    assert.deepEqual(problemsOf({ GATEHOUSE_CLIENTS: '[{' }), ['GATEHOUSE_CLIENTS: is not valid JSON']);
    const dup = { client_id: 'a', client_secret: 'x'.repeat(32), name: 'A', redirect_uris: ['https://a.example.org/cb'] };
    assert.match(problemsOf({ GATEHOUSE_CLIENTS: JSON.stringify([dup, dup]) })[0]!, /listed twice/);
  });

  it('reads a JSON config file, with environment variables taking precedence', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'gatehouse-config-')), 'gatehouse.json');
    writeFileSync(file, JSON.stringify({ port: 4100, ttl: { code: 30 }, rateLimit: { login: 5 } }));
    const c = loadConfig({ GATEHOUSE_CONFIG: file, GATEHOUSE_PORT: '4200' });
    assert.equal(c.port, 4200);
    assert.equal(c.ttl.code, 30);
    assert.equal(c.rateLimit.login, 5);
    assert.equal(c.ttl.accessToken, 900);
  });

  it('reports a logo_uri, issuer or OpenBao address that is not a URL as a configuration error naming the setting', () => {
    const client = {
      client_id: 'wiki',
      type: 'public',
      name: 'Wiki',
      redirect_uris: ['https://wiki.example.org/cb'],
      logo_uri: 'not a url',
    };
    assert.deepEqual(problemsOf({ GATEHOUSE_CLIENTS: JSON.stringify([client]) }), [
      'GATEHOUSE_CLIENTS (0.logo_uri): must be an absolute URL',
    ]);
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'gatehouse-config-')), 'gatehouse.json');
    writeFileSync(file, JSON.stringify({ clients: [client] }));
    assert.deepEqual(problemsOf({ GATEHOUSE_CONFIG: file }), ['clients.0.logo_uri: must be an absolute URL']);
    assert.deepEqual(problemsOf({ GATEHOUSE_ISSUER: 'id.example.org/gatehouse' }), ['GATEHOUSE_ISSUER: must be an absolute URL']);
    assert.deepEqual(problemsOf({ GATEHOUSE_ISSUER: 'https://id.example.org/?tenant=1' }), [
      'GATEHOUSE_ISSUER: must not have a query or fragment',
    ]);
    const openbao = problemsOf({
      GATEHOUSE_IDENTITY_BACKEND: 'openbao',
      GATEHOUSE_OPENBAO_ADDR: 'https://open bao:8200',
      GATEHOUSE_OPENBAO_TOKEN: 's.service-token',
      GATEHOUSE_OPENBAO_MFA_METHOD_ID: '5f0c1e7a-3b2d-4c8e-9a61-7d4e2b9f0c11',
    });
    assert.deepEqual(openbao, ['GATEHOUSE_OPENBAO_ADDR: must be an absolute URL']);
  });

  it('refuses a configured client name with control or direction-changing characters', () => {
    const client = { client_id: 'wiki', type: 'public', name: 'Wiki\u202Eexe', redirect_uris: ['https://wiki.example.org/cb'] };
    assert.deepEqual(problemsOf({ GATEHOUSE_CLIENTS: JSON.stringify([client]) }), [
      'GATEHOUSE_CLIENTS (0.name): must not contain control or direction-changing characters',
    ]);
  });

  it('limits how long a client may take: 10 s for headers, 30 s for the request, 5 s idle keep-alive, 60 s without traffic', () => {
    assert.deepEqual(loadConfig({}).http, {
      headersTimeoutSeconds: 10,
      requestTimeoutSeconds: 30,
      keepAliveTimeoutSeconds: 5,
      idleTimeoutSeconds: 60,
    });
    const c = loadConfig({
      GATEHOUSE_HTTP_HEADERS_TIMEOUT_SECONDS: '5',
      GATEHOUSE_HTTP_REQUEST_TIMEOUT_SECONDS: '20',
      GATEHOUSE_HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: '75',
      GATEHOUSE_HTTP_IDLE_TIMEOUT_SECONDS: '120',
    });
    assert.deepEqual(c.http, { headersTimeoutSeconds: 5, requestTimeoutSeconds: 20, keepAliveTimeoutSeconds: 75, idleTimeoutSeconds: 120 });
    assert.deepEqual(problemsOf({ GATEHOUSE_HTTP_HEADERS_TIMEOUT_SECONDS: '40' }), [
      'GATEHOUSE_HTTP_HEADERS_TIMEOUT_SECONDS: must not exceed http.requestTimeoutSeconds',
    ]);
    assert.match(problemsOf({ GATEHOUSE_HTTP_REQUEST_TIMEOUT_SECONDS: '0' })[0]!, /^GATEHOUSE_HTTP_REQUEST_TIMEOUT_SECONDS/);
  });

  it('reports an unreadable config file and unknown keys in it', () => {
    assert.match(problemsOf({ GATEHOUSE_CONFIG: '/nonexistent/gatehouse.json' })[0]!, /^GATEHOUSE_CONFIG: cannot read/);
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'gatehouse-config-')), 'gatehouse.json');
    writeFileSync(file, JSON.stringify({ prot: 1 }));
    assert.match(problemsOf({ GATEHOUSE_CONFIG: file }).join('\n'), /prot/);
  });
});

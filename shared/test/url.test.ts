import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ClientRegistration,
  CreateClientRequest,
  LogoUri,
  UpdateClientRequest,
  httpOrHttps,
  noQueryOrFragment,
  urlWith,
} from '../src/index.js';

const messages = (result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }) =>
  result.error?.issues.map((i) => [i.path.join('.'), i.message]);

describe('URL fields', () => {
  for (const value of ['not a url', 'https://exa mple.org/logo.png', '//cdn.example/logo.png', 'https://', '']) {
    test(`fail, rather than throw, for ${JSON.stringify(value)}`, () => {
      const result = LogoUri.safeParse(value);
      assert.equal(result.success, false);
      assert.deepEqual(messages(result), [['', 'must be an absolute URL']]);
    });
  }

  test('apply their rules to a URL that parses', () => {
    assert.deepEqual(messages(LogoUri.safeParse('http://cdn.example/logo.png')), [['', 'must be an https URL']]);
    assert.equal(LogoUri.parse('https://cdn.example/logo.png'), 'https://cdn.example/logo.png');
    const base = urlWith([httpOrHttps, noQueryOrFragment]);
    assert.deepEqual(messages(base.safeParse('ftp://id.example/?a#b')), [
      ['', 'must be an http or https URL'],
      ['', 'must not have a query or fragment'],
    ]);
    assert.equal(base.parse('https://id.example/base'), 'https://id.example/base');
  });

  test('refuse an unparseable logo in every client schema with the field named', () => {
    const redirect = ['https://app.example/cb'];
    assert.deepEqual(messages(CreateClientRequest.safeParse({ name: 'App', redirectUris: redirect, logoUri: 'nope' })), [
      ['logoUri', 'must be an absolute URL'],
    ]);
    assert.deepEqual(messages(UpdateClientRequest.safeParse({ logoUri: 'nope' })), [['logoUri', 'must be an absolute URL']]);
    assert.deepEqual(
      messages(ClientRegistration.safeParse({ client_id: 'app', type: 'public', name: 'App', redirect_uris: redirect, logo_uri: 'nope' })),
      [['logo_uri', 'must be an absolute URL']],
    );
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { Capabilities, SessionView } from '@gatehouse/shared';
import { BACKEND, harness } from '../helpers/harness.js';
import { portalBrowser } from '../helpers/mfa.js';

describe('capabilities', () => {
  it('tells anyone what this Gatehouse offers, and the session view says the same', async () => {
    const h = await harness();
    try {
      const open = Capabilities.parse((await request(h.app).get('/api/v1/capabilities').expect(200)).body);
      const expected = {
        sqlite: {
          identityBackend: 'sqlite',
          manageUsers: true,
          recoveryCodes: true,
          emailLogin: true,
          backendTokens: false,
          federation: true,
        },
        openbao: {
          identityBackend: 'openbao',
          manageUsers: false,
          recoveryCodes: false,
          emailLogin: false,
          backendTokens: true,
          federation: false,
        },
      } as const;
      assert.deepEqual(open, expected[BACKEND]);
      const session = SessionView.parse((await (await portalBrowser(h)).get('/api/v1/session').expect(200)).body);
      assert.deepEqual(session.capabilities, open);
    } finally {
      await h.close();
    }
  });
});

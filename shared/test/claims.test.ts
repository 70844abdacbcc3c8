import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildClaims, splitScope, type Account } from '../src/index.js';

const alice: Account = {
  sub: 'u1',
  username: 'alice',
  name: 'Alice Liddell',
  nickname: null,
  email: 'alice@example.org',
  emailVerified: true,
  groups: ['staff'],
  updatedAt: 1700000000,
};

test('openid alone releases only sub', () => {
  assert.deepEqual(buildClaims(alice, ['openid']), { sub: 'u1' });
});

test('each scope releases its own claims and omits empty ones', () => {
  assert.deepEqual(buildClaims(alice, ['openid', 'profile', 'email', 'groups']), {
    sub: 'u1',
    name: 'Alice Liddell',
    preferred_username: 'alice',
    updated_at: 1700000000,
    email: 'alice@example.org',
    email_verified: true,
    groups: ['staff'],
  });
});

test('unknown scopes release nothing', () => {
  assert.deepEqual(buildClaims(alice, ['openid', 'admin', '__proto__']), { sub: 'u1' });
});

test('email_verified is left out when there is no email', () => {
  assert.deepEqual(buildClaims({ ...alice, email: null }, ['openid', 'email']), { sub: 'u1' });
});

test('splitScope drops duplicates and empty items', () => {
  assert.deepEqual(splitScope('openid  email openid'), ['openid', 'email']);
  assert.deepEqual(splitScope(undefined), []);
});

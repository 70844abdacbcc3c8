import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AcceptInvitationRequest,
  ClientRegistration,
  CreateApiTokenRequest,
  CreateClientRequest,
  CreateGroupRequest,
  CreateUserRequest,
  DISPLAY_TEXT_MESSAGE,
  RegisterRequest,
  UpdateClientRequest,
  UpdateGroupRequest,
  UpdateProfileRequest,
  UpdateUserRequest,
  displayText,
} from '../src/index.js';

const REFUSED: Record<string, string> = {
  NUL: 'Alice\u0000',
  TAB: 'Ali\tce',
  LF: 'Alice\nAdmin',
  'CR LF at the end': 'Alice\r\n',
  ESC: 'Alice\u001b[31m',
  DEL: 'Alice\u007f',
  'C1 NEL': 'Alice\u0085',
  'C1 CSI': 'Alice\u009b31m',
  'line separator': 'Alice\u2028Admin',
  'zero-width space': 'ad\u200Bmin',
  'word joiner': 'ad\u2060min',
  'byte-order mark': '\uFEFFAlice',
  'right-to-left override': 'Alice\u202Egnp.exe',
  'left-to-right embedding': '\u202AAlice',
  'pop directional formatting': 'Alice\u202C',
  'right-to-left isolate': 'Alice\u2067x\u2069',
  'first strong isolate': '\u2068Alice',
  'left-to-right mark': 'Alice\u200E',
  'right-to-left mark': '\u200FAlice',
  'Arabic letter mark': 'Alice\u061C',
  'lone high surrogate': 'Alice\uD83D',
  'lone low surrogate': '\uDE00Alice',
};

const ACCEPTED: Record<string, string> = {
  accents: 'Zoë Ångström-Núñez',
  CJK: '山田 太郎',
  emoji: 'Alice 🦊',
  'emoji with joiners': '👩‍👩‍👧 family',
  'flag with tag characters': '🏴󠁧󠁢󠁳󠁣󠁴󠁿 Scotland',
  Arabic: 'مريم العلي',
  Hebrew: 'דוד כהן',
  'Persian with a zero-width non-joiner': 'می‌خواهم',
  Devanagari: 'अनुराधा',
};

describe('displayText', () => {
  const name = displayText(128);
  for (const [what, value] of Object.entries(REFUSED)) {
    test(`refuses ${what} with a message that says why`, () => {
      const result = name.safeParse(value);
      assert.equal(result.success, false);
      assert.deepEqual(
        result.error?.issues.map((i) => i.message),
        ['must not contain control or direction-changing characters'],
      );
    });
  }
  for (const [what, value] of Object.entries(ACCEPTED)) {
    test(`accepts ${what}`, () => {
      assert.equal(name.parse(value), value);
    });
  }

  test('trims surrounding spaces and counts the length after trimming', () => {
    assert.equal(name.parse('  Alice  '), 'Alice');
    assert.equal(displayText(5).parse(' Alice '), 'Alice');
    assert.equal(displayText(5).safeParse('Alice!').success, false);
  });
});

describe('every human-readable field uses display text', () => {
  const bad = 'Mallory\u202E';
  const fields: [
    string,
    { safeParse(v: unknown): { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } } },
    object,
    string,
  ][] = [
    ['profile name', UpdateProfileRequest, { name: bad }, 'name'],
    ['profile nickname', UpdateProfileRequest, { nickname: bad }, 'nickname'],
    ['new user name', CreateUserRequest, { username: 'mallory', name: bad }, 'name'],
    ['changed user name', UpdateUserRequest, { name: bad }, 'name'],
    ['new group description', CreateGroupRequest, { name: 'ops', description: bad }, 'description'],
    ['changed group description', UpdateGroupRequest, { description: bad }, 'description'],
    ['new client name', CreateClientRequest, { name: bad, redirectUris: ['https://app.example/cb'] }, 'name'],
    ['changed client name', UpdateClientRequest, { name: bad }, 'name'],
    [
      'configured client name',
      ClientRegistration,
      { client_id: 'app', type: 'public', name: bad, redirect_uris: ['https://app.example/cb'] },
      'name',
    ],
    ['API token name', CreateApiTokenRequest, { name: bad, scopes: ['profile:read'], expiresInDays: 30 }, 'name'],
    [
      'name given when accepting an invitation',
      AcceptInvitationRequest,
      { token: 'x'.repeat(32), username: 'mallory', name: bad, password: 'long-enough-password' },
      'name',
    ],
    [
      'name given when registering',
      RegisterRequest,
      { username: 'mallory', email: 'm@example.org', name: bad, password: 'long-enough-password' },
      'name',
    ],
  ];
  for (const [what, schema, body, field] of fields) {
    test(`refuses a direction override in the ${what}`, () => {
      const result = schema.safeParse(body);
      assert.equal(result.success, false);
      assert.deepEqual(
        result.error?.issues.map((i) => [i.path.join('.'), i.message]),
        [[field, DISPLAY_TEXT_MESSAGE]],
      );
    });
  }

  test('accepts right-to-left and CJK names in the same fields', () => {
    assert.equal(UpdateProfileRequest.safeParse({ name: 'مريم العلي', nickname: '山田' }).success, true);
    assert.equal(CreateClientRequest.safeParse({ name: 'ויקי 📚', redirectUris: ['https://app.example/cb'] }).success, true);
    assert.equal(CreateApiTokenRequest.safeParse({ name: 'CI ✓ déploiement', scopes: ['profile:read'], expiresInDays: 30 }).success, true);
  });
});

import request from 'supertest';
import { API_TOKEN_PREFIX, type ApiScope } from '@gatehouse/shared';
import { sha256 } from '../../src/lib/hash.js';
import { ADMIN_PASSWORD, type Agent, type Harness } from './harness.js';
import { portalBrowser } from './mfa.js';

export { ADMIN_PASSWORD };

/** A browser signed in to the portal as the bootstrap admin (cookie session; send `csrf` on writes). */
export function adminBrowser(h: Harness): Promise<Agent> {
  return portalBrowser(h, 'admin', ADMIN_PASSWORD);
}

/** Mints a personal API token for a user straight into storage; answers the bearer value. */
export async function apiToken(h: Harness, userId: string, scopes: ApiScope[]): Promise<string> {
  const token = API_TOKEN_PREFIX + h.ctx.random.token(32);
  const now = h.clock.now();
  await h.ctx.storage.apiTokens.insert(
    { id: h.ctx.random.token(12), userId, name: 'test', scopes, createdAt: now, expiresAt: now + 3600 },
    sha256(token),
  );
  return token;
}

/** The bootstrap admin's user id. */
export async function adminId(h: Harness): Promise<string> {
  const admin = await h.ctx.storage.users.findByLogin('admin');
  if (!admin) throw new Error('no admin');
  return admin.id;
}

/** Calls with `Authorization: Bearer <token>`. */
export function bearer(h: Harness, token: string) {
  const auth = { Authorization: `Bearer ${token}` };
  return {
    get: (path: string) => request(h.app).get(path).set(auth),
    post: (path: string, body?: object) => request(h.app).post(path).set(auth).send(body),
    put: (path: string, body?: object) => request(h.app).put(path).set(auth).send(body),
    patch: (path: string, body?: object) => request(h.app).patch(path).set(auth).send(body),
    delete: (path: string) => request(h.app).delete(path).set(auth),
  };
}

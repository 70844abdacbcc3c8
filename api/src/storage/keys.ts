import type { Db } from './db.js';

export interface StoredKey {
  kid: string;
  alg: string;
  sealedPrivateJwk: string;
  publicJwk: string;
  createdAt: number;
}

export class KeyRepo {
  constructor(private readonly db: Db) {}

  async list(): Promise<StoredKey[]> {
    const rows = await this.db.selectFrom('signing_keys').selectAll().orderBy('created_at').execute();
    return rows.map((r) => ({ kid: r.kid, alg: r.alg, sealedPrivateJwk: r.private_jwk, publicJwk: r.public_jwk, createdAt: r.created_at }));
  }

  async insert(k: StoredKey): Promise<void> {
    await this.db
      .insertInto('signing_keys')
      .values({ kid: k.kid, alg: k.alg, private_jwk: k.sealedPrivateJwk, public_jwk: k.publicJwk, created_at: k.createdAt })
      .execute();
  }
}

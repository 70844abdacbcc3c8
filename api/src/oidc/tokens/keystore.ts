import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { SigningAlg } from '@gatehouse/shared';
import type { SecretBox } from '../../lib/secret-box.js';
import type { KeyRepo } from '../../storage/keys.js';

export const SIGNING_ALGS: SigningAlg[] = ['RS256', 'ES256'];

interface LoadedKey {
  kid: string;
  alg: SigningAlg;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

/**
 * Signing keys, imported once at start. The newest key of each algorithm signs; every key
 * stays published in the JWKS so tokens it signed still verify.
 */
export class Keystore {
  private constructor(
    private readonly signers: Map<SigningAlg, LoadedKey>,
    private readonly byKid: Map<string, LoadedKey>,
    /** The JWKS response body, serialized once. */
    readonly jwksJson: string,
  ) {}

  /** Loads the stored keys, generating (and storing) one per algorithm that has none. */
  static async load(repo: KeyRepo, box: SecretBox, now: number): Promise<Keystore> {
    const stored = await repo.list();
    for (const alg of SIGNING_ALGS) {
      if (stored.some((k) => k.alg === alg)) continue;
      const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
      const publicJwk = await exportJWK(publicKey);
      const kid = await calculateJwkThumbprint(publicJwk);
      const record = {
        kid,
        alg,
        sealedPrivateJwk: box.seal(JSON.stringify(await exportJWK(privateKey))),
        publicJwk: JSON.stringify({ ...publicJwk, kid, alg, use: 'sig' }),
        createdAt: now,
      };
      await repo.insert(record);
      stored.push(record);
    }
    const signers = new Map<SigningAlg, LoadedKey>();
    const byKid = new Map<string, LoadedKey>();
    const published: JWK[] = [];
    for (const k of stored) {
      const alg = k.alg as SigningAlg;
      const publicJwk = JSON.parse(k.publicJwk) as JWK;
      const loaded: LoadedKey = {
        kid: k.kid,
        alg,
        privateKey: (await importJWK(JSON.parse(box.open(k.sealedPrivateJwk)) as JWK, alg)) as CryptoKey,
        publicKey: (await importJWK(publicJwk, alg)) as CryptoKey,
      };
      signers.set(alg, loaded);
      byKid.set(k.kid, loaded);
      published.push(publicJwk);
    }
    return new Keystore(signers, byKid, JSON.stringify({ keys: published }));
  }

  signer(alg: SigningAlg): LoadedKey {
    const key = this.signers.get(alg);
    if (!key) throw new Error(`no signing key for ${alg}`);
    return key;
  }

  /** Public key for a `kid` from a token header; undefined for keys we never had. */
  verifier(kid: string | undefined): LoadedKey | undefined {
    return kid ? this.byKid.get(kid) : undefined;
  }
}

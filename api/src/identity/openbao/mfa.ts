import { z } from 'zod';
import type { Clock } from '../../lib/clock.js';
import type { SecretBox } from '../../lib/secret-box.js';
import { qrDataUri } from '../../mfa/qr.js';
import { PERIOD, checkTotp, otpauthUri } from '../../mfa/totp.js';
import type { MfaRepo } from '../../storage/mfa.js';
import { NotSupported, type MfaProvider } from '../provider.js';
import { isOpenBaoId, type OpenBaoClient, type OpenBaoSettings } from './client.js';

/** An enrolment not confirmed within this many seconds is abandoned: its secret is destroyed. */
export const ENROLMENT_TTL = 10 * 60;

/** What Gatehouse keeps (sealed) while an enrolment waits for its first code. */
const Pending = z.object({ secret: z.string().min(16), startedAt: z.number().int() });

export interface OpenBaoMfa extends MfaProvider {
  /** A login passed OpenBao's TOTP check: the entity has a secret. */
  learnEnrolled(userId: string): Promise<void>;
  /** OpenBao said the entity has no secret for the method. */
  learnNotEnrolled(userId: string): Promise<void>;
}

/**
 * TOTP through OpenBao's identity MFA (api-docs/secret/identity/mfa/totp). OpenBao holds the
 * secrets and checks codes only inside a login (sys/mfa/validate), so:
 *
 * - Enrolment: admin-generate makes the secret on the entity at once. Gatehouse keeps a sealed
 *   copy until the user proves the app works with a code, checked here against that copy; then the
 *   copy is wiped. An enrolment left unconfirmed for 10 minutes is destroyed (admin-destroy) at the
 *   next start or confirm, so an abandoned QR code never stays in force.
 * - Status: OpenBao has no endpoint that says whether an entity has a TOTP secret (the TOTP API
 *   only generates and destroys), so Gatehouse records it in its own totp_credentials table (no
 *   new migration: the table and its foreign key to the shadow row already exist). It is learned
 *   from enrolments made here, from every login that passed OpenBao's TOTP check, and from OpenBao
 *   saying a secret is missing; turning TOTP off here forgets it. An enrolment an OpenBao admin
 *   makes directly shows after the user's next sign-in through Gatehouse.
 * - No recovery codes, and no code checks outside a login (NotSupported).
 */
export function createOpenBaoMfa(
  client: OpenBaoClient,
  settings: OpenBaoSettings,
  repo: MfaRepo,
  box: SecretBox,
  clock: Clock,
): OpenBaoMfa {
  const methodId = settings.mfaMethodId;

  const pendingOf = (sealed: string) => {
    const parsed = Pending.safeParse(JSON.parse(box.open(sealed)));
    return parsed.success ? parsed.data : undefined;
  };

  /** Marks TOTP on; the stored secret (if any) is replaced by an empty record first. */
  async function markEnrolled(userId: string, step: number): Promise<void> {
    if (await repo.savePendingTotp(userId, box.seal('{}'), clock.now())) await repo.confirmTotp(userId, step, [], clock.now());
  }

  async function destroy(userId: string): Promise<void> {
    await client.destroyTotp(methodId, userId);
    await repo.deleteTotp(userId);
  }

  return {
    async status(userId) {
      const totp = await repo.findTotp(userId);
      return { totp: { enabled: totp?.confirmedAt != null, recoveryCodesLeft: 0 } };
    },

    async startTotpEnrolment(userId, account) {
      if (!isOpenBaoId(userId)) return undefined;
      const current = await repo.findTotp(userId);
      if (current?.confirmedAt != null) return undefined;
      // A new enrolment replaces an unconfirmed one, whose secret is already live in OpenBao.
      if (current) await destroy(userId);
      const generated = await client.generateTotp(methodId, userId);
      if (generated === 'exists') {
        // A secret made outside Gatehouse: TOTP is on, and only turning it off replaces it.
        await markEnrolled(userId, 0);
        return undefined;
      }
      const url = new URL(generated.url);
      const secret = url.searchParams.get('secret') ?? '';
      const params: Record<string, string> = {
        algorithm: 'SHA1',
        digits: '6',
        period: String(PERIOD),
        ...Object.fromEntries(url.searchParams),
      };
      if (!secret || params.algorithm?.toUpperCase() !== 'SHA1' || params.digits !== '6' || params.period !== String(PERIOD)) {
        await client.destroyTotp(methodId, userId);
        throw new NotSupported('A TOTP method other than SHA-1, 6 digits, 30 seconds');
      }
      await repo.savePendingTotp(userId, box.seal(JSON.stringify({ secret, startedAt: clock.now() })), clock.now());
      // OpenBao labels its URL with the entity id; the app shows the user's own name instead.
      const uri = otpauthUri(params.issuer ?? 'OpenBao', account, secret);
      return { secret, otpauthUri: uri, qrCode: await qrDataUri(uri) };
    },

    async confirmTotpEnrolment(userId, code) {
      const current = await repo.findTotp(userId);
      if (!current || current.confirmedAt !== null) return undefined;
      const pending = pendingOf(current.sealedSecret);
      if (!pending || clock.now() - pending.startedAt > ENROLMENT_TTL) {
        await destroy(userId);
        return undefined;
      }
      const check = await checkTotp(pending.secret, code, clock.now(), null);
      if (!check.ok) return undefined;
      await markEnrolled(userId, check.step);
      return [];
    },

    async adoptTotp() {
      throw new NotSupported('Taking over an authenticator set up elsewhere');
    },

    async verify() {
      throw new NotSupported('Checking a code outside a sign-in');
    },

    async disableTotp(userId) {
      await destroy(userId);
    },

    async regenerateRecoveryCodes() {
      throw new NotSupported('Recovery codes');
    },

    learnEnrolled: (userId) => markEnrolled(userId, 0),

    async learnNotEnrolled(userId) {
      const current = await repo.findTotp(userId);
      if (current?.confirmedAt != null) await repo.deleteTotp(userId);
    },
  };
}

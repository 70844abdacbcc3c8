import type { Clock } from '../lib/clock.js';
import type { SecretBox } from '../lib/secret-box.js';
import { hashRecoveryCode, newRecoveryCodes } from '../mfa/recovery-codes.js';
import { qrDataUri } from '../mfa/qr.js';
import { checkTotp, newTotpSecret, otpauthUri } from '../mfa/totp.js';
import type { MfaRepo } from '../storage/mfa.js';
import type { MfaProvider } from './provider.js';

/** TOTP and recovery codes in Gatehouse's own database; secrets sealed at rest. */
export function createSqliteMfa(repo: MfaRepo, box: SecretBox, clock: Clock, issuerName: string): MfaProvider {
  return {
    async status(userId) {
      const totp = await repo.findTotp(userId);
      const enabled = totp?.confirmedAt != null;
      return { totp: { enabled, recoveryCodesLeft: enabled ? await repo.recoveryCodesLeft(userId) : 0 } };
    },

    async startTotpEnrolment(userId, account) {
      const secret = newTotpSecret();
      if (!(await repo.savePendingTotp(userId, box.seal(secret), clock.now()))) return undefined;
      const uri = otpauthUri(issuerName, account, secret);
      return { secret, otpauthUri: uri, qrCode: await qrDataUri(uri) };
    },

    async confirmTotpEnrolment(userId, code) {
      const totp = await repo.findTotp(userId);
      if (!totp || totp.confirmedAt !== null) return undefined;
      const check = await checkTotp(box.open(totp.sealedSecret), code, clock.now(), null);
      if (!check.ok) return undefined;
      const { codes, hashes } = newRecoveryCodes();
      await repo.confirmTotp(userId, check.step, hashes, clock.now());
      return codes;
    },

    async adoptTotp(userId, secret, acceptedStep) {
      if (!(await repo.savePendingTotp(userId, box.seal(secret), clock.now()))) throw new Error('TOTP is already on for this user');
      const { codes, hashes } = newRecoveryCodes();
      await repo.confirmTotp(userId, acceptedStep, hashes, clock.now());
      return codes;
    },

    async verify(userId, factor) {
      const totp = await repo.findTotp(userId);
      if (!totp || totp.confirmedAt === null) return 'not_enrolled';
      if ('recoveryCode' in factor) {
        return (await repo.consumeRecoveryCode(userId, hashRecoveryCode(factor.recoveryCode), clock.now())) ? 'recovery' : 'invalid';
      }
      const check = await checkTotp(box.open(totp.sealedSecret), factor.code, clock.now(), totp.lastStep);
      if (!check.ok) return check.reason;
      return (await repo.advanceStep(userId, check.step)) ? 'totp' : 'replayed';
    },

    async disableTotp(userId) {
      await repo.deleteTotp(userId);
    },

    async regenerateRecoveryCodes(userId) {
      const { codes, hashes } = newRecoveryCodes();
      await repo.replaceRecoveryCodes(userId, hashes);
      return codes;
    },
  };
}

import type { Capabilities } from '@gatehouse/shared';
import type { IdentityProvider } from './provider.js';

/** What this Gatehouse offers with its identity backend; the SPA hides the rest. */
export function capabilitiesOf({ identity }: { identity: IdentityProvider }): Capabilities {
  const { kind, capabilities: c } = identity;
  return {
    identityBackend: kind,
    manageUsers: c.manageUsers,
    recoveryCodes: c.recoveryCodes,
    emailLogin: c.emailLogin,
    backendTokens: c.backendTokens,
    federation: c.federation,
  };
}

import type { Clock } from '../../lib/clock.js';
import type { BackendServices } from '../provider.js';
import type { OpenBaoClient, OpenBaoSettings } from './client.js';

/**
 * Credentials minted with the user's own OpenBao token (the one their session holds), so OpenBao's
 * policies for that user decide what they get, not Gatehouse's service token.
 */
export function createOpenBaoBackendServices(client: OpenBaoClient, settings: OpenBaoSettings, clock: Clock): BackendServices {
  return {
    async wrappedToken(credential) {
      // docs/concepts/tokens: a child dies with its parent, so it cannot outlive the session's token.
      const tokenTtl = Math.max(1, Math.min(settings.apiTokenTtl, credential.expiresAt - clock.now()));
      const { wrappingToken, wrapTtl } = await client.wrappedChildToken(credential.token, tokenTtl, settings.wrapTtl);
      return { wrappingToken, wrapTtl, tokenTtl };
    },

    kubernetesToken: (credential, role, namespace) => client.kubernetesCreds(credential.token, settings.kubernetesMount, role, namespace),
  };
}

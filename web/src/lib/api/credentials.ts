import { Kubeconfig, KubeconfigOptions, WrappedBackendToken, type KubeconfigRequest, type KubeconfigVariant } from '@gatehouse/shared';
import { call } from './client';

/**
 * Credentials minted for the signed-in user (browser session only: OpenBao credentials come from
 * the session's own OpenBao token, which API tokens do not carry).
 */

/** Which kubeconfig variants this Gatehouse can make; none when Kubernetes is not configured. */
export const getKubeconfigOptions = () => call(KubeconfigOptions, 'GET', '/api/v1/me/kubeconfig');
/** A kubeconfig file; `expiresAt` is null when kubectl signs in itself (oidc). */
export const createKubeconfig = (body: KubeconfigRequest) => call(Kubeconfig, 'POST', '/api/v1/me/kubeconfig', body);
/** A child of the session's OpenBao token, response-wrapped: only the single-use wrapping token comes back. */
export const createOpenBaoToken = () => call(WrappedBackendToken, 'POST', '/api/v1/me/openbao-token');

export type { Kubeconfig, KubeconfigVariant, WrappedBackendToken };

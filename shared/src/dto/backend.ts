import { z } from 'zod';

/**
 * Credentials minted for the signed-in user: kubeconfig files (both backends) and wrapped
 * OpenBao tokens (OpenBao backend). Both need the browser session, whose server-side OpenBao
 * token does the minting.
 */

/** `oidc`: kubectl signs in through Gatehouse (kubectl oidc-login); `openbao`: a short-lived service-account token from OpenBao. */
export const KubeconfigVariant = z.enum(['oidc', 'openbao']);
export type KubeconfigVariant = z.infer<typeof KubeconfigVariant>;

/** `GET /api/v1/me/kubeconfig`: which variants this Gatehouse can make. */
export const KubeconfigOptions = z.object({ variants: z.array(KubeconfigVariant) });
export type KubeconfigOptions = z.infer<typeof KubeconfigOptions>;

export const KubeconfigRequest = z.object({ variant: KubeconfigVariant }).strict();
export type KubeconfigRequest = z.infer<typeof KubeconfigRequest>;

export const Kubeconfig = z.object({
  variant: KubeconfigVariant,
  filename: z.string(),
  /** The kubeconfig YAML. */
  content: z.string(),
  /** When the credential inside stops working; null when kubectl signs in itself. */
  expiresAt: z.number().int().nullable(),
});
export type Kubeconfig = z.infer<typeof Kubeconfig>;

/** `POST /api/v1/me/openbao-token`: only the single-use wrapping token is shown; unwrap it within wrapTtl. */
export const WrappedBackendToken = z.object({
  wrappingToken: z.string(),
  /** Seconds the wrapping token can be unwrapped in. */
  wrapTtl: z.number().int(),
  /** Seconds the unwrapped token lives (at most as long as this session's OpenBao token). */
  tokenTtl: z.number().int(),
  expiresAt: z.number().int(),
});
export type WrappedBackendToken = z.infer<typeof WrappedBackendToken>;

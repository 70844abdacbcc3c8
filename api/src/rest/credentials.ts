import { stringify } from 'yaml';
import { Kubeconfig, KubeconfigOptions, KubeconfigRequest, WrappedBackendToken, type KubeconfigVariant } from '@gatehouse/shared';
import type { AppContext } from '../context.js';
import { ApiError } from '../http/api-error.js';
import type { BackendCredential } from '../identity/provider.js';
import type { RouteContext, RestRoutes } from './route.js';

/**
 * Credentials for the signed-in user:
 *   GET  /api/v1/me/kubeconfig       which kubeconfig variants are on offer
 *   POST /api/v1/me/kubeconfig       a kubeconfig: `oidc` (kubectl oidc-login against Gatehouse,
 *                                    both backends) or `openbao` (a service-account token from
 *                                    OpenBao's kubernetes secrets engine)
 *   POST /api/v1/me/openbao-token    a child of the session's OpenBao token, response-wrapped
 * OpenBao credentials are minted with the user's own OpenBao token, which only the browser
 * session holds (server-side), so those need the session, not an API token.
 */
export function credentialRoutes(ctx: AppContext, routes: RestRoutes): void {
  const kube = ctx.config.kubernetes;
  const variants: KubeconfigVariant[] = [
    ...(kube?.oidcClientId ? (['oidc'] as const) : []),
    ...(kube?.role && ctx.identity.backend ? (['openbao'] as const) : []),
  ];

  /** The OpenBao token of the caller's browser session. */
  async function sessionCredential({ req, principal }: RouteContext<unknown, unknown>): Promise<BackendCredential> {
    const session = principal.via === 'session' ? await ctx.sessions.current(req) : undefined;
    const credential = session && ctx.sessions.credentialOf(session);
    if (!credential) {
      throw new ApiError(
        'forbidden',
        403,
        'This needs a browser session signed in with OpenBao; API tokens cannot mint OpenBao credentials.',
      );
    }
    return credential;
  }

  function kubeconfig(user: string, auth: Record<string, unknown>): string {
    const cluster = kube!.clusterName;
    const context = `${user}@${cluster}`;
    return stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: cluster, cluster: { server: kube!.apiUrl, 'certificate-authority-data': Buffer.from(kube!.caCert).toString('base64') } },
      ],
      users: [{ name: user, user: auth }],
      contexts: [{ name: context, context: { cluster, user, namespace: kube!.namespace } }],
      'current-context': context,
    });
  }

  routes.add(
    {
      method: 'get',
      path: '/api/v1/me/kubeconfig',
      summary: 'Which kubeconfig files you can download',
      scope: 'profile:read',
      response: KubeconfigOptions,
    },
    async () => ({ variants }),
  );

  routes.add(
    {
      method: 'post',
      path: '/api/v1/me/kubeconfig',
      summary: 'Make a kubeconfig file for you',
      scope: 'tokens',
      body: KubeconfigRequest,
      response: Kubeconfig,
    },
    async (c) => {
      const { variant } = c.body;
      if (!kube || !variants.includes(variant)) {
        throw new ApiError('not_supported', 501, `This Gatehouse does not offer ${variant} kubeconfig files.`);
      }
      const user = c.principal.user.username;
      const filename = `kubeconfig-${kube.clusterName}.yaml`;
      if (variant === 'oidc') {
        const auth = {
          exec: {
            apiVersion: 'client.authentication.k8s.io/v1',
            command: 'kubectl',
            args: [
              'oidc-login',
              'get-token',
              `--oidc-issuer-url=${ctx.config.issuer}`,
              `--oidc-client-id=${kube.oidcClientId}`,
              '--oidc-extra-scope=groups',
            ],
            interactiveMode: 'IfAvailable',
          },
        };
        return { variant, filename, content: kubeconfig(user, auth), expiresAt: null };
      }
      const credential = await sessionCredential(c);
      const { token, ttl } = await ctx.identity.backend!.kubernetesToken(credential, kube.role!, kube.namespace);
      const now = ctx.clock.now();
      await ctx.audit.record(
        { event: 'kubeconfig_issued', userId: c.principal.user.id, ip: c.req.ip ?? null, detail: { role: kube.role!, ttl } },
        now,
      );
      return { variant, filename, content: kubeconfig(user, { token }), expiresAt: now + ttl };
    },
  );

  routes.add(
    {
      method: 'post',
      path: '/api/v1/me/openbao-token',
      summary: 'A wrapped OpenBao token for you',
      scope: 'tokens',
      response: WrappedBackendToken,
      status: 201,
    },
    async (c) => {
      if (!ctx.identity.backend) throw new ApiError('not_supported', 501, 'This Gatehouse does not use OpenBao.');
      const credential = await sessionCredential(c);
      const wrapped = await ctx.identity.backend.wrappedToken(credential);
      const now = ctx.clock.now();
      await ctx.audit.record(
        {
          event: 'backend_token_create',
          userId: c.principal.user.id,
          ip: c.req.ip ?? null,
          detail: { wrap_ttl: wrapped.wrapTtl, token_ttl: wrapped.tokenTtl },
        },
        now,
      );
      return { ...wrapped, expiresAt: now + wrapped.wrapTtl };
    },
  );
}

import { z } from 'zod';
import { ClientRegistration, UpstreamRegistration, httpOrHttps, noQueryOrFragment, urlWith } from '@gatehouse/shared';
import { ipAllowList } from '../metrics/allow-list.js';

const seconds = (def: number, max?: number) => {
  const s = z.coerce.number().int().positive();
  return (max ? s.max(max) : s).default(def);
};
const count = (def: number) => z.coerce.number().int().positive().default(def);

/** An OpenBao mount path such as `userpass` or `auth/ldap-corp`: no leading or trailing slash, no `..`. */
const mountPath = z.string().regex(/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/, 'must be a mount path like userpass');

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * Every setting Gatehouse reads, with its default. `config/load.ts` maps environment
 * variables and the optional config file onto this shape.
 */
export const ConfigSchema = z
  .object({
    port: z.coerce.number().int().min(0).max(65535).default(3000),
    host: z.string().min(1).default('127.0.0.1'),
    /** Public URL of Gatehouse; defaults to http://localhost:<port>. */
    issuer: urlWith([httpOrHttps, noQueryOrFragment])
      .transform((u) => u.replace(/\/+$/, ''))
      .optional(),
    dataDir: z.string().min(1).default('./data'),
    /** The built SPA; defaults to web/build in this repository. */
    webDir: z.string().min(1).optional(),
    /** 32 bytes, base64; without it a key file is created in the data directory. */
    secretKey: z
      .string()
      .refine((k) => Buffer.from(k, 'base64').length === 32, 'must be 32 bytes, base64-encoded')
      .optional(),
    adminPassword: z.string().min(12, 'must be at least 12 characters').max(1024).optional(),
    clients: z.array(ClientRegistration).default([]),
    /** Upstream identity providers people may sign in with (federation). */
    upstreams: z.array(UpstreamRegistration).default([]),
    /** How long Gatehouse waits for an upstream's discovery, token, JWKS or userinfo endpoint. */
    upstreamTimeoutMs: z.coerce.number().int().min(100).max(60_000).default(10_000),
    trustProxy: z
      .union([z.boolean(), z.coerce.number().int().min(0), z.string()])
      .default(false)
      .transform((v) => (v === 'true' ? true : v === 'false' ? false : v)),
    ttl: z
      .object({
        /** RFC 6749 §4.1.2 recommends at most 10 minutes. */
        code: seconds(60, 10 * MINUTE),
        accessToken: seconds(15 * MINUTE, DAY),
        idToken: seconds(HOUR, DAY),
        refreshToken: seconds(30 * DAY),
        /** How long a rotated refresh token may still be presented again (concurrent refreshes). */
        refreshReuseGrace: z.coerce.number().int().min(0).max(MINUTE).default(10),
        interaction: seconds(30 * MINUTE, DAY),
        sessionIdle: seconds(12 * HOUR),
        sessionAbsolute: seconds(7 * DAY),
        /**
         * How recent a sign-in must be to change a second factor without the password again
         * ("sudo mode"); 0 asks for the password every time.
         */
        reauthWindow: z.coerce
          .number()
          .int()
          .min(0)
          .max(HOUR)
          .default(5 * MINUTE),
      })
      .prefault({}),
    throttle: z
      .object({
        /** Failed sign-in or second-factor attempts before waiting starts; then 1 s, 2 s, 4 s … */
        freeFailures: count(5),
        /** The longest wait after repeated failures (there is never a permanent lockout). */
        maxDelay: seconds(15 * MINUTE, DAY),
      })
      .prefault({}),
    /** The longest expiry a personal API token may be given, in days. */
    apiTokenMaxDays: z.coerce.number().int().min(1).max(3650).default(365),
    /** Where identities live: Gatehouse's own SQLite database, or OpenBao. */
    identityBackend: z.enum(['sqlite', 'openbao']).default('sqlite'),
    openbao: z
      .object({
        /** e.g. https://openbao.internal:8200 */
        address: urlWith([httpOrHttps]).transform((u) => u.replace(/\/+$/, '')),
        /** Gatehouse's own least-privilege service token. */
        token: z.string().min(8, 'must be an OpenBao token'),
        userpassMount: mountPath.default('userpass'),
        /** The TOTP login MFA method's id (OpenBao's UUIDs carry no RFC 9562 version bits, hence guid). */
        mfaMethodId: z.guid('must be the TOTP method id (a UUID)'),
        /** Members of this identity group (directly or through nesting) are Gatehouse admins. */
        adminGroup: z.string().min(1).max(128).default('gatehouse-admins'),
        kubernetesMount: mountPath.default('kubernetes'),
        /** PEM of the CA that signed OpenBao's certificate, when it is not a public one. */
        caCert: z.string().optional(),
        /** Response-wrapping TTL of API tokens, and the TTL of the tokens themselves. */
        wrapTtl: seconds(5 * MINUTE, HOUR),
        apiTokenTtl: seconds(HOUR, 30 * DAY),
        requestTimeoutMs: z.coerce.number().int().min(100).max(60_000).default(5000),
      })
      .optional(),
    /** Kubeconfig downloads: the cluster, and how to get credentials for it. */
    kubernetes: z
      .object({
        apiUrl: z.string().url(),
        /** PEM of the cluster's CA. */
        caCert: z.string().min(1),
        clusterName: z
          .string()
          .regex(/^[A-Za-z0-9._-]{1,64}$/)
          .default('kubernetes'),
        /** OpenBao kubernetes secrets engine role (OpenBao backend only). */
        role: z
          .string()
          .regex(/^[A-Za-z0-9._-]{1,128}$/)
          .optional(),
        namespace: z
          .string()
          .regex(/^[a-z0-9-]{1,63}$/)
          .default('default'),
        /** Public client kubectl oidc-login uses against Gatehouse itself. */
        oidcClientId: z
          .string()
          .regex(/^[A-Za-z0-9._~-]{1,128}$/)
          .optional(),
      })
      .optional(),
    /** Anyone may create an account at /join; off by default (invitations only). */
    selfRegistration: z
      .union([z.boolean(), z.enum(['true', 'false'])])
      .default(false)
      .transform((v) => v === true || v === 'true'),
    /** Audit events older than this are deleted. */
    auditRetentionDays: z.coerce.number().int().min(1).max(3650).default(90),
    /** How long a one-time password link from an admin stays good. */
    passwordLinkTtl: seconds(DAY, 30 * DAY),
    metrics: z
      .object({
        /** Scrapers send `Authorization: Bearer <token>`; at least 32 characters. */
        token: z.string().min(32, 'must be at least 32 characters').optional(),
        /** IPs or CIDR ranges that may scrape without the token; loopback by default. */
        allow: z
          .union([z.array(z.string()), z.string()])
          .default(['127.0.0.1/8', '::1/128'])
          .transform((v) =>
            typeof v === 'string'
              ? v
                  .split(',')
                  .map((s) => s.trim())
                  .filter(Boolean)
              : v,
          )
          .superRefine((entries, ctx) => {
            try {
              ipAllowList(entries);
            } catch (err) {
              ctx.addIssue({ code: 'custom', message: (err as Error).message.replace(/^metrics\.allow: /, '') });
            }
          }),
      })
      .prefault({}),
    rateLimit: z
      .object({
        windowSeconds: seconds(MINUTE),
        /** Requests per window and client IP. */
        login: count(30),
        token: count(600),
        api: count(600),
      })
      .prefault({}),
    /**
     * How long a client may hold a connection, in seconds. Without limits a slow client keeps a
     * socket for minutes by sending its request a byte at a time (Node's own limits are 60 s for
     * the headers and 300 s for the request). A request over a limit is answered 408 and its
     * connection closed.
     */
    http: z
      .object({
        /** To send the request line and all headers. */
        headersTimeoutSeconds: seconds(10, HOUR),
        /** To send the whole request, body included (bodies are at most 64 kB); at least headersTimeoutSeconds. */
        requestTimeoutSeconds: seconds(30, HOUR),
        /**
         * An idle keep-alive connection is closed after this. Behind a proxy or load balancer that
         * reuses connections to Gatehouse, make it longer than the proxy's own idle timeout.
         */
        keepAliveTimeoutSeconds: seconds(5, HOUR),
        /**
         * A connection on which nothing moves either way for this long is closed, such as one
         * whose client stopped reading the response. Keep it above openbao.requestTimeoutMs.
         */
        idleTimeoutSeconds: seconds(60, HOUR),
      })
      .prefault({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.http.headersTimeoutSeconds > c.http.requestTimeoutSeconds) {
      // Node refuses a server whose headers may take longer than the whole request.
      ctx.addIssue({ code: 'custom', path: ['http', 'headersTimeoutSeconds'], message: 'must not exceed http.requestTimeoutSeconds' });
    }
    if (c.ttl.sessionIdle > c.ttl.sessionAbsolute) {
      ctx.addIssue({ code: 'custom', path: ['ttl', 'sessionIdle'], message: 'must not exceed ttl.sessionAbsolute' });
    }
    if (c.identityBackend === 'openbao' && !c.openbao) {
      ctx.addIssue({
        code: 'custom',
        path: ['openbao'],
        message: 'the openbao backend needs GATEHOUSE_OPENBAO_ADDR, _TOKEN and _MFA_METHOD_ID',
      });
    }
    if (c.selfRegistration && c.identityBackend === 'openbao') {
      ctx.addIssue({
        code: 'custom',
        path: ['selfRegistration'],
        message: 'OpenBao users are made in OpenBao: self-registration needs the sqlite backend',
      });
    }
    if (c.upstreams.length > 0 && c.identityBackend === 'openbao') {
      ctx.addIssue({
        code: 'custom',
        path: ['upstreams'],
        message: 'signing in with upstream identity providers needs the sqlite backend (OpenBao links identities itself)',
      });
    }
    if (c.kubernetes?.role && c.identityBackend !== 'openbao') {
      ctx.addIssue({ code: 'custom', path: ['kubernetes', 'role'], message: 'OpenBao kubernetes credentials need the openbao backend' });
    }
    const ids = c.clients.map((cl) => cl.client_id);
    const dup = ids.find((id, i) => ids.indexOf(id) !== i);
    if (dup) ctx.addIssue({ code: 'custom', path: ['clients'], message: `client_id ${dup} is listed twice` });
    const upstreamIds = c.upstreams.map((u) => u.id);
    const dupUpstream = upstreamIds.find((id, i) => upstreamIds.indexOf(id) !== i);
    if (dupUpstream) ctx.addIssue({ code: 'custom', path: ['upstreams'], message: `upstream ${dupUpstream} is listed twice` });
  })
  .transform((c) => ({ ...c, issuer: c.issuer ?? `http://localhost:${c.port}` }));

export type ConfigInput = z.input<typeof ConfigSchema>;
export type Config = z.output<typeof ConfigSchema>;

import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { ConfigSchema, type Config } from './schema.js';

/** Environment variable → path in the config object. The tables in docs/configuration.md are this list. */
export const ENV_VARS: Record<string, string[]> = {
  GATEHOUSE_PORT: ['port'],
  GATEHOUSE_HOST: ['host'],
  GATEHOUSE_ISSUER: ['issuer'],
  GATEHOUSE_DATA_DIR: ['dataDir'],
  GATEHOUSE_WEB_DIR: ['webDir'],
  GATEHOUSE_SECRET_KEY: ['secretKey'],
  GATEHOUSE_ADMIN_PASSWORD: ['adminPassword'],
  GATEHOUSE_CLIENTS: ['clients'],
  GATEHOUSE_UPSTREAMS: ['upstreams'],
  GATEHOUSE_UPSTREAM_TIMEOUT_MS: ['upstreamTimeoutMs'],
  GATEHOUSE_TRUST_PROXY: ['trustProxy'],
  GATEHOUSE_CODE_TTL: ['ttl', 'code'],
  GATEHOUSE_ACCESS_TOKEN_TTL: ['ttl', 'accessToken'],
  GATEHOUSE_ID_TOKEN_TTL: ['ttl', 'idToken'],
  GATEHOUSE_REFRESH_TOKEN_TTL: ['ttl', 'refreshToken'],
  GATEHOUSE_REFRESH_REUSE_GRACE: ['ttl', 'refreshReuseGrace'],
  GATEHOUSE_INTERACTION_TTL: ['ttl', 'interaction'],
  GATEHOUSE_SESSION_IDLE_TTL: ['ttl', 'sessionIdle'],
  GATEHOUSE_SESSION_ABSOLUTE_TTL: ['ttl', 'sessionAbsolute'],
  GATEHOUSE_REAUTH_WINDOW: ['ttl', 'reauthWindow'],
  GATEHOUSE_API_TOKEN_MAX_DAYS: ['apiTokenMaxDays'],
  GATEHOUSE_THROTTLE_FREE_FAILURES: ['throttle', 'freeFailures'],
  GATEHOUSE_THROTTLE_MAX_DELAY: ['throttle', 'maxDelay'],
  GATEHOUSE_IDENTITY_BACKEND: ['identityBackend'],
  GATEHOUSE_OPENBAO_ADDR: ['openbao', 'address'],
  GATEHOUSE_OPENBAO_TOKEN: ['openbao', 'token'],
  GATEHOUSE_OPENBAO_USERPASS_MOUNT: ['openbao', 'userpassMount'],
  GATEHOUSE_OPENBAO_MFA_METHOD_ID: ['openbao', 'mfaMethodId'],
  GATEHOUSE_OPENBAO_ADMIN_GROUP: ['openbao', 'adminGroup'],
  GATEHOUSE_OPENBAO_KUBERNETES_MOUNT: ['openbao', 'kubernetesMount'],
  GATEHOUSE_OPENBAO_CA_CERT: ['openbao', 'caCert'],
  GATEHOUSE_OPENBAO_WRAP_TTL: ['openbao', 'wrapTtl'],
  GATEHOUSE_OPENBAO_API_TOKEN_TTL: ['openbao', 'apiTokenTtl'],
  GATEHOUSE_OPENBAO_TIMEOUT_MS: ['openbao', 'requestTimeoutMs'],
  GATEHOUSE_KUBERNETES_API_URL: ['kubernetes', 'apiUrl'],
  GATEHOUSE_KUBERNETES_CA_CERT: ['kubernetes', 'caCert'],
  GATEHOUSE_KUBERNETES_CLUSTER_NAME: ['kubernetes', 'clusterName'],
  GATEHOUSE_KUBERNETES_ROLE: ['kubernetes', 'role'],
  GATEHOUSE_KUBERNETES_NAMESPACE: ['kubernetes', 'namespace'],
  GATEHOUSE_KUBERNETES_OIDC_CLIENT_ID: ['kubernetes', 'oidcClientId'],
  GATEHOUSE_SELF_REGISTRATION: ['selfRegistration'],
  GATEHOUSE_AUDIT_RETENTION_DAYS: ['auditRetentionDays'],
  GATEHOUSE_PASSWORD_LINK_TTL: ['passwordLinkTtl'],
  GATEHOUSE_METRICS_TOKEN: ['metrics', 'token'],
  GATEHOUSE_METRICS_ALLOW: ['metrics', 'allow'],
  GATEHOUSE_RATE_LIMIT_WINDOW: ['rateLimit', 'windowSeconds'],
  GATEHOUSE_RATE_LIMIT_LOGIN: ['rateLimit', 'login'],
  GATEHOUSE_RATE_LIMIT_TOKEN: ['rateLimit', 'token'],
  GATEHOUSE_RATE_LIMIT_API: ['rateLimit', 'api'],
  GATEHOUSE_HTTP_HEADERS_TIMEOUT_SECONDS: ['http', 'headersTimeoutSeconds'],
  GATEHOUSE_HTTP_REQUEST_TIMEOUT_SECONDS: ['http', 'requestTimeoutSeconds'],
  GATEHOUSE_HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: ['http', 'keepAliveTimeoutSeconds'],
  GATEHOUSE_HTTP_IDLE_TIMEOUT_SECONDS: ['http', 'idleTimeoutSeconds'],
};
const JSON_VARS = new Set(['GATEHOUSE_CLIENTS', 'GATEHOUSE_UPSTREAMS']);

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    node[key] = typeof node[key] === 'object' && node[key] !== null ? node[key] : {};
    node = node[key] as Record<string, unknown>;
  }
  node[path.at(-1)!] = value;
}

function describe(issue: z.core.$ZodIssue, source: Map<string, string>): string {
  const path = issue.path.map(String);
  for (let i = path.length; i > 0; i--) {
    const name = source.get(path.slice(0, i).join('.'));
    if (name) return `${name}${i < path.length ? ` (${path.slice(i).join('.')})` : ''}: ${issue.message}`;
  }
  return `${path.join('.') || '(config)'}: ${issue.message}`;
}

/**
 * Reads the optional JSON config file named by GATEHOUSE_CONFIG, then the GATEHOUSE_*
 * variables over it, and validates the result. Throws a ConfigError naming every bad field.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, unknown> = {};
  const source = new Map<string, string>();
  const problems: string[] = [];

  const file = env.GATEHOUSE_CONFIG;
  if (file) {
    try {
      Object.assign(raw, JSON.parse(readFileSync(file, 'utf8')));
    } catch (err) {
      problems.push(`GATEHOUSE_CONFIG: cannot read ${file} as JSON (${(err as Error).message})`);
    }
  }
  for (const [name, path] of Object.entries(ENV_VARS)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    source.set(path.join('.'), name);
    if (JSON_VARS.has(name)) {
      try {
        setPath(raw, path, JSON.parse(value));
      } catch {
        problems.push(`${name}: is not valid JSON`);
      }
    } else {
      setPath(raw, path, value);
    }
  }
  for (const name of Object.keys(env)) {
    if (name.startsWith('GATEHOUSE_') && !ENV_VARS[name] && name !== 'GATEHOUSE_CONFIG') {
      problems.push(`${name}: unknown setting`);
    }
  }

  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) problems.push(...parsed.error.issues.map((i) => describe(i, source)));
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  return parsed.data;
}

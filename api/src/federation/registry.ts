import { readFileSync } from 'node:fs';
import { UpstreamRegistration, type AdminUpstream, type UpstreamButton } from '@gatehouse/shared';
import { ConfigError } from '../config/load.js';
import type { SecretBox } from '../lib/secret-box.js';
import type { UpstreamRecord, UpstreamRepo } from '../storage/upstreams.js';
import { RelyingParties } from './relying-party.js';

/** An upstream's settings: its registration without the secret. */
export type UpstreamSettings = Omit<UpstreamRegistration, 'client_secret' | 'client_secret_file'>;

/** An upstream identity provider people may sign in with. */
export interface Upstream {
  id: string;
  source: 'config' | 'admin';
  settings: UpstreamSettings;
  /** The client secret at the upstream, opened; undefined for a public client. */
  secret: string | undefined;
  createdAt: number;
  updatedAt: number;
}

const DEFAULT_SCOPES: Record<UpstreamSettings['type'], string[]> = {
  oidc: ['openid', 'email', 'profile'],
  google: ['openid', 'email', 'profile'],
  microsoft: ['openid', 'email', 'profile'],
  gitlab: ['openid', 'email', 'profile'],
  // GitHub scopes: the profile, and the e-mail addresses with their verification.
  github: ['read:user', 'user:email'],
};

/** The scopes asked of the upstream. */
export const scopesOf = (s: UpstreamSettings): string[] => s.scopes ?? DEFAULT_SCOPES[s.type];

/** The settings part of a registration (what is stored in the clear). */
export function settingsOf(r: UpstreamRegistration | UpstreamSettings): UpstreamSettings {
  const { client_secret: _secret, client_secret_file: _file, ...settings } = r as UpstreamRegistration;
  return settings;
}

/** The secret of a configured upstream: inline, or read from its file at start. */
export function configSecret(r: UpstreamRegistration): string | undefined {
  if (r.client_secret_file === undefined) return r.client_secret;
  try {
    return readFileSync(r.client_secret_file, 'utf8').trim();
  } catch (err) {
    throw new ConfigError([`upstream ${r.id}: cannot read client_secret_file ${r.client_secret_file} (${(err as Error).message})`]);
  }
}

/**
 * The upstreams: those from configuration (written to the database at every start, like the
 * configured clients) and those admins added. Read from the database once and after each change,
 * so a sign-in never waits on it.
 */
export class UpstreamRegistry {
  private byId = new Map<string, Upstream>();
  /** Gatehouse's openid-client configuration at each upstream. */
  readonly parties: RelyingParties;

  constructor(
    private readonly repo: UpstreamRepo,
    private readonly box: SecretBox,
    private readonly issuer: string,
    readonly timeoutMs: number,
    now: () => number,
  ) {
    this.parties = new RelyingParties(timeoutMs, now);
  }

  async reload(): Promise<void> {
    const loaded = new Map<string, Upstream>();
    for (const record of await this.repo.list()) {
      const upstream = this.fromRecord(record);
      if (upstream) loaded.set(upstream.id, upstream);
    }
    this.byId = loaded;
  }

  list(): Upstream[] {
    return [...this.byId.values()];
  }

  get(id: string): Upstream | undefined {
    return this.byId.get(id);
  }

  /** The sign-in screen's buttons: every upstream that is not hidden. */
  buttons(): UpstreamButton[] {
    return this.list()
      .filter((u) => !u.settings.hidden)
      .map((u) => ({ id: u.id, name: u.settings.name, type: u.settings.type }));
  }

  /** Where the upstream sends the browser back to; register it at the upstream. */
  callbackUrl(id: string): string {
    return `${this.issuer}/oauth2/upstream/${encodeURIComponent(id)}/callback`;
  }

  /** Whether sign-ins through this upstream need Gatehouse's own second factor too. */
  requiresMfa(id: string | null): boolean {
    return id !== null && this.byId.get(id)?.settings.require_mfa === true;
  }

  toAdminView(u: Upstream): AdminUpstream {
    return {
      ...u.settings,
      scopes: scopesOf(u.settings),
      source: u.source,
      hasSecret: u.secret !== undefined,
      callbackUrl: this.callbackUrl(u.id),
      createdAt: u.createdAt,
      updatedAt: u.updatedAt,
    };
  }

  /** A stored row that no longer parses (settings from an older version) is left out, not fatal. */
  private fromRecord(r: UpstreamRecord): Upstream | undefined {
    const parsed = UpstreamRegistration.safeParse(r.settings);
    if (!parsed.success) return undefined;
    return {
      id: r.id,
      source: r.source,
      settings: settingsOf(parsed.data),
      secret: r.sealedSecret === null ? undefined : this.box.open(r.sealedSecret),
      createdAt: r.createdAt,
      updatedAt: r.updatedAt,
    };
  }
}

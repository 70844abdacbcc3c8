import type { Clock } from '../../lib/clock.js';
import { IdentityUnavailable } from '../provider.js';
import { TtlCache } from './cache.js';
import { isOpenBaoId, isUserpassName, type EntityData, type OpenBaoClient, type OpenBaoSettings } from './client.js';

/**
 * How long an entity read (or the group list) is reused, since userinfo, token and REST calls each
 * ask for the user: a change made in OpenBao shows in Gatehouse within this.
 */
export const CACHE_SECONDS = 5;
const CACHE_ENTRIES = 1000;

/** An OpenBao identity entity as Gatehouse sees a user. */
export interface OpenBaoIdentity {
  /** The entity id: stable across renames, the `sub` claim. */
  id: string;
  /** The userpass alias name (the entity name when it has no userpass alias). */
  username: string;
  /** Whether the entity has an alias on the configured userpass mount (it can sign in). */
  hasUserpassAlias: boolean;
  name: string | null;
  email: string | null;
  emailVerified: boolean;
  disabled: boolean;
  /** Effective group names (direct and inherited), sorted. */
  groups: string[];
  directGroups: { id: string; name: string }[];
  isAdmin: boolean;
  createdAt: number;
  updatedAt: number;
}

const nonEmpty = (value: string | undefined) => (value === undefined || value.trim() === '' ? null : value);

/**
 * Reads identity entities and groups with the service token and turns them into users: the
 * userpass alias is the username, entity metadata `name`, `email` and `email_verified` the
 * profile, identity groups (direct and inherited) the groups, and membership of the admin group
 * the admin flag. Answers are cached for a few seconds; failures never are.
 */
export class OpenBaoIdentities {
  private readonly byIdCache: TtlCache<OpenBaoIdentity | undefined>;
  private readonly idOfUsername: TtlCache<string | undefined>;
  private readonly groupCache: TtlCache<Map<string, string>>;
  private accessor: Promise<string> | undefined;

  constructor(
    private readonly client: OpenBaoClient,
    private readonly settings: OpenBaoSettings,
    clock: Clock,
  ) {
    this.byIdCache = new TtlCache(clock, CACHE_SECONDS, CACHE_ENTRIES);
    this.idOfUsername = new TtlCache(clock, CACHE_SECONDS, CACHE_ENTRIES);
    this.groupCache = new TtlCache(clock, CACHE_SECONDS, 1);
  }

  /** The accessor of the configured userpass mount (sys/auth), learned once. */
  userpassAccessor(): Promise<string> {
    this.accessor ??= this.client.authMountAccessor(this.settings.userpassMount).then(
      (accessor) => {
        if (accessor === undefined) {
          this.accessor = undefined;
          throw new IdentityUnavailable(new Error(`no auth method is enabled at auth/${this.settings.userpassMount}`));
        }
        return accessor;
      },
      (err: unknown) => {
        this.accessor = undefined;
        throw err;
      },
    );
    return this.accessor;
  }

  /** The user with this entity id; an id that is not an OpenBao id is nobody (no request is made). */
  byId(id: string, options: { fresh?: boolean } = {}): Promise<OpenBaoIdentity | undefined> {
    if (!isOpenBaoId(id)) return Promise.resolve(undefined);
    const key = id.toLowerCase();
    const load = async () => {
      const entity = await this.client.readEntity(key);
      return entity && this.toIdentity(entity);
    };
    if (options.fresh) {
      this.byIdCache.delete(key);
    }
    return this.byIdCache.through(key, load);
  }

  /** The user whose userpass alias is `username` (case-insensitive, as userpass is). */
  async byUsername(username: string, options: { fresh?: boolean } = {}): Promise<OpenBaoIdentity | undefined> {
    if (!isUserpassName(username)) return undefined;
    const name = username.toLowerCase();
    if (!options.fresh) {
      const id = this.idOfUsername.get(name);
      if (id !== undefined) return this.byId(id);
    }
    const entity = await this.client.lookupEntityByAlias(name, await this.userpassAccessor());
    if (!entity) return undefined;
    const identity = await this.toIdentity(entity);
    this.idOfUsername.set(name, identity.id);
    this.byIdCache.set(identity.id.toLowerCase(), identity);
    return identity;
  }

  /** Forgets what is cached of a user, after a change made through Gatehouse. */
  forget(id: string): void {
    this.byIdCache.delete(id.toLowerCase());
  }

  /** Names of all identity groups by id (LIST identity/group/id), cached briefly. */
  async groupNames(needed: string[] = []): Promise<Map<string, string>> {
    const load = async () => new Map((await this.client.listGroups()).map((g) => [g.id, g.name]));
    let names = await this.groupCache.through('all', load);
    if (needed.some((id) => !names.has(id))) {
      names = await load();
      this.groupCache.set('all', names);
    }
    return names;
  }

  private async toIdentity(entity: EntityData): Promise<OpenBaoIdentity> {
    const accessor = await this.userpassAccessor();
    const alias = entity.aliases.find((a) => a.mountAccessor === accessor);
    const names = await this.groupNames(entity.allGroupIds);
    const nameOf = (id: string) => names.get(id) ?? id;
    const groups = [...new Set(entity.allGroupIds.map(nameOf))].sort();
    return {
      id: entity.id,
      username: alias?.name ?? entity.name,
      hasUserpassAlias: alias !== undefined,
      name: nonEmpty(entity.metadata.name),
      email: nonEmpty(entity.metadata.email),
      emailVerified: entity.metadata.email_verified === 'true',
      disabled: entity.disabled,
      groups,
      directGroups: entity.directGroupIds.map((id) => ({ id, name: nameOf(id) })).sort((a, b) => a.name.localeCompare(b.name)),
      isAdmin: groups.includes(this.settings.adminGroup),
      createdAt: entity.createdAt,
      updatedAt: entity.updatedAt,
    };
  }
}

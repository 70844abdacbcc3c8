import type { Db } from './db.js';
import { ApiTokenRepo } from './api-tokens.js';
import { AuditRepo } from './audit.js';
import { ClientRepo } from './clients.js';
import { ConsentRepo } from './consents.js';
import { GrantRepo } from './grants.js';
import { GroupRepo } from './groups.js';
import { InteractionRepo } from './interactions.js';
import { InvitationRepo } from './invitations.js';
import { KeyRepo } from './keys.js';
import { MfaRepo } from './mfa.js';
import { PasswordLinkRepo } from './password-links.js';
import { SessionRepo } from './sessions.js';
import { UpstreamRepo } from './upstreams.js';
import { UserRepo } from './users.js';

/** Every repository over one database. Only storage/ talks SQL. */
export interface Storage {
  clients: ClientRepo;
  users: UserRepo;
  groups: GroupRepo;
  passwordLinks: PasswordLinkRepo;
  sessions: SessionRepo;
  interactions: InteractionRepo;
  consents: ConsentRepo;
  grants: GrantRepo;
  keys: KeyRepo;
  mfa: MfaRepo;
  apiTokens: ApiTokenRepo;
  invitations: InvitationRepo;
  audit: AuditRepo;
  upstreams: UpstreamRepo;
  /** Cheap round trip for /readyz. */
  ping(): Promise<void>;
}

export function createStorage(db: Db): Storage {
  return {
    clients: new ClientRepo(db),
    users: new UserRepo(db),
    groups: new GroupRepo(db),
    passwordLinks: new PasswordLinkRepo(db),
    sessions: new SessionRepo(db),
    interactions: new InteractionRepo(db),
    consents: new ConsentRepo(db),
    grants: new GrantRepo(db),
    keys: new KeyRepo(db),
    mfa: new MfaRepo(db),
    apiTokens: new ApiTokenRepo(db),
    invitations: new InvitationRepo(db),
    audit: new AuditRepo(db),
    upstreams: new UpstreamRepo(db),
    async ping() {
      await db.selectFrom('users').select('id').limit(1).execute();
    },
  };
}

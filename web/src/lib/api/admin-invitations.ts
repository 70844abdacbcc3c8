import { CreatedInvitation, InvitationList, type CreateInvitationRequest, type Invitation } from '@gatehouse/shared';
import { Nothing, call } from './client';

/** Invitations to create an account, for administrators. */

const invitations = '/api/v1/admin/invitations';

/** Pending ones by default; `all` takes in used, revoked and expired ones too. */
export const listInvitations = (status: Invitation['status'] | 'all' = 'pending') =>
  call(InvitationList, 'GET', `${invitations}?status=${status}`);
/** The answer's `url` carries the single-use token: the only time it is shown. */
export const createInvitation = (body: CreateInvitationRequest) => call(CreatedInvitation, 'POST', invitations, body);
/** The link stops working at once. */
export const revokeInvitation = (id: string) => call(Nothing, 'DELETE', `${invitations}/${encodeURIComponent(id)}`);

export type { CreatedInvitation, Invitation };

import type { UpstreamLinkMode, UpstreamProvision, UpstreamType } from '@gatehouse/shared';

/** How the admin screens name an upstream's kind and account rules. */

export const TYPE_LABELS: Record<UpstreamType, string> = {
  oidc: 'OpenID Connect',
  github: 'GitHub',
  google: 'Google',
  microsoft: 'Microsoft Entra ID',
  gitlab: 'GitLab',
};

export const LINK_LABELS: Record<UpstreamLinkMode, string> = {
  none: 'Never',
  verified_email: 'By verified email address',
  username: 'By username',
};

export const PROVISION_LABELS: Record<UpstreamProvision, string> = {
  create: 'Create an account',
  invitation: 'Only with an invitation',
  deny: 'Refuse',
};

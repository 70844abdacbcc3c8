/** What an OAuth error means for the person who sees it. */
export function explainOAuthError(code: string | null): { title: string; text: string } {
  switch (code) {
    case 'access_denied':
      return { title: 'Access was not granted', text: 'The sign-in was cancelled or declined, so the application did not get access.' };
    case 'login_required':
    case 'interaction_required':
      return {
        title: 'You need to sign in',
        text: 'The application asked to sign you in without showing a screen, but you are not signed in.',
      };
    case 'consent_required':
      return { title: 'Approval needed', text: 'The application needs your approval before it can continue.' };
    case 'unauthorized_client':
    case 'invalid_client':
      return {
        title: 'Unknown application',
        text: 'This application is not registered with Gatehouse, or may not sign people in this way.',
      };
    case 'invalid_scope':
      return {
        title: 'The application asked for something it may not have',
        text: 'It requested access that Gatehouse does not offer to it.',
      };
    case 'temporarily_unavailable':
    case 'server_error':
      return { title: 'Gatehouse could not finish', text: 'Something went wrong on our side. Wait a moment and try again.' };
    case 'interaction_expired':
      return {
        title: 'This sign-in request has expired',
        text: 'Sign-in requests are only valid for a while. Go back to the application and start again.',
      };
    default:
      return { title: 'This sign-in request cannot continue', text: 'The application sent a request Gatehouse cannot accept.' };
  }
}

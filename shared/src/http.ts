/**
 * Cookie-authenticated JSON calls that change state must carry this header. A cross-site
 * form cannot set it, and a cross-site fetch that sets it needs a CORS preflight we never grant.
 */
export const CSRF_HEADER = 'x-gatehouse-csrf';
export const CSRF_HEADER_VALUE = '1';

import { getUser } from '$lib/api/admin';

/**
 * Usernames for user ids not in `known` yet, looked up one by one (a page names only a few
 * people). Ids of deleted users are left out, so callers show the id.
 */
export async function usernamesOf(ids: Iterable<string>, known: Record<string, string>): Promise<Record<string, string>> {
  const missing = [...new Set(ids)].filter((id) => !(id in known));
  const found = await Promise.all(
    missing.map((id) =>
      getUser(id).then(
        (u) => [id, u.username] as const,
        () => null,
      ),
    ),
  );
  return Object.fromEntries(found.filter((pair) => pair !== null));
}

import type { UserRecord } from '../identity.hooks';

/** The public shape of a user in responses. */
export function userView(u: UserRecord) {
  return {
    id: u.id,
    email: u.email,
    displayName: u.displayName,
    roles: u.roles,
    emailVerified: u.emailVerifiedAt !== null,
    createdAt: u.createdAt.toISOString(),
  };
}

export type UserView = ReturnType<typeof userView>;

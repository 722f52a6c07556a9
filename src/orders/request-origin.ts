import type { AuthUser } from '../common/auth.decorators';
import type { ClientContext } from '../identity/identity.hooks';

/** Where a request came from, for the fraud rules: the client's address and the session it was made in. */
export interface RequestOrigin {
  ip: string;
  sessionId: string;
}

export const originOf = (user: AuthUser, client: ClientContext): RequestOrigin => ({ ip: client.ip, sessionId: user.sessionId });

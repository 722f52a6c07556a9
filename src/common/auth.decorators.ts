import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';

export type Role = 'buyer' | 'creator' | 'reseller' | 'admin';
export const ROLES: readonly Role[] = ['buyer', 'creator', 'reseller', 'admin'];

/**
 * The authenticated caller, as the global auth guard puts it on the request: the user's row as read
 * with the session check of this request (routes that show the caller need no second read).
 */
export interface AuthUser {
  id: string;
  email: string;
  displayName: string;
  roles: Role[];
  emailVerifiedAt: Date | null;
  createdAt: Date;
  sessionId: string;
  /** The fields other modules add to `GET /me`, read in the same statement. */
  profile: Record<string, unknown>;
}

export const IS_PUBLIC = 'bazaar:public';
export const REQUIRED_ROLES = 'bazaar:roles';
export const SENSITIVE = 'bazaar:sensitive';

/** Marks a route as reachable without authentication. Every route needs this or `@Roles`. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);

/** Authenticated callers holding at least one of these roles (`buyer` is everyone signed in). */
export const Roles = (...roles: Role[]): MethodDecorator & ClassDecorator => SetMetadata(REQUIRED_ROLES, roles);

/** The route needs a re-authentication within the last few minutes (`POST /auth/reauth`). */
export const Sensitive = (): MethodDecorator & ClassDecorator => SetMetadata(SENSITIVE, true);

export const CurrentUser = createParamDecorator((_: unknown, ctx: ExecutionContext): AuthUser => {
  return ctx.switchToHttp().getRequest<{ user: AuthUser }>().user;
});

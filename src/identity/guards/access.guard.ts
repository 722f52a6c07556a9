import { ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { AuthUser } from '../../common/auth.decorators';
import { Clock } from '../../common/clock.service';
import { SECOND_MS } from '../../common/time';
import { AppConfig } from '../../config/app-config';
import { IdentityErrors } from '../identity.errors';
import { Principal } from '../sessions.service';
import { routePolicy } from './route.policy';

type AuthRequest = FastifyRequest & { user?: AuthUser; reauthenticatedAt?: Date | null };

/**
 * The global guard (APP_GUARD) in front of every route: `@Public()` routes pass; everything else
 * needs a valid access token of a live session and one of the `@Roles` (`buyer` = anyone signed in);
 * `@Sensitive()` routes also need a re-authentication within the window. Unmarked routes are refused.
 */
@Injectable()
export class AccessGuard extends AuthGuard('jwt') {
  private readonly logger = new Logger('AccessGuard');

  constructor(
    private readonly reflector: Reflector,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {
    super();
  }

  override async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const policy = routePolicy(this.reflector, ctx.getHandler(), ctx.getClass());
    if (policy.kind === 'public') return true;
    if (policy.kind === 'unmarked') {
      this.logger.error(`${ctx.getClass().name}.${ctx.getHandler().name} has neither @Public nor @Roles; refusing`);
      throw IdentityErrors.routeUnmarked();
    }
    await super.canActivate(ctx);
    const req = ctx.switchToHttp().getRequest<AuthRequest>();
    const user = req.user!;
    if (!policy.roles.includes('buyer') && !policy.roles.some((r) => user.roles.includes(r))) {
      throw IdentityErrors.roleRequired(policy.roles);
    }
    if (policy.sensitive) {
      const at = req.reauthenticatedAt?.getTime();
      if (at === undefined || this.clock.nowMs() - at > this.config.security.reauthWindowSeconds * SECOND_MS) {
        throw IdentityErrors.reauthRequired();
      }
    }
    return true;
  }

  override handleRequest<TUser = AuthUser>(err: unknown, principal: Principal | false, _info: unknown, ctx: ExecutionContext): TUser {
    // A token passport-jwt refuses arrives as `info` with no principal; an `err` is validate() failing
    // (the session lookup: the database unreachable), which says nothing about the token.
    if (err) throw err;
    if (!principal) throw IdentityErrors.accessTokenMissing();
    ctx.switchToHttp().getRequest<AuthRequest>().reauthenticatedAt = principal.reauthenticatedAt;
    return principal.user as TUser;
  }
}

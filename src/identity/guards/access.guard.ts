import { CanActivate, ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { JwtService } from '@nestjs/jwt';
import type { FastifyRequest } from 'fastify';
import { AuthUser } from '../../common/auth.decorators';
import { Clock } from '../../common/clock.service';
import { SECOND_MS } from '../../common/time';
import { AppConfig } from '../../config/app-config';
import { IdentityErrors } from '../identity.errors';
import { Principal, SessionsService } from '../sessions.service';
import { routePolicy } from './route.policy';

type AuthRequest = FastifyRequest & { user?: AuthUser; reauthenticatedAt?: Date | null };

/** `Authorization: <scheme> <token>`, the scheme `Bearer` in any case (as passport-jwt reads it). */
const AUTH_HEADER = /(\S+)\s+(\S+)/;

function bearerToken(header: string | undefined): string | undefined {
  const match = typeof header === 'string' ? AUTH_HEADER.exec(header) : null;
  return match && match[1].toLowerCase() === 'bearer' ? match[2] : undefined;
}

/**
 * The global guard (APP_GUARD) in front of every route: `@Public()` routes pass; everything else
 * needs a valid access token of a live session and one of the `@Roles` (`buyer` = anyone signed in);
 * `@Sensitive()` routes also need a re-authentication within the window. Unmarked routes are refused.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  private readonly logger = new Logger('AccessGuard');

  constructor(
    private readonly reflector: Reflector,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly jwt: JwtService,
    private readonly sessions: SessionsService,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const policy = routePolicy(this.reflector, ctx.getHandler(), ctx.getClass());
    if (policy.kind === 'public') return true;
    if (policy.kind === 'unmarked') {
      this.logger.error(`${ctx.getClass().name}.${ctx.getHandler().name} has neither @Public nor @Roles; refusing`);
      throw IdentityErrors.routeUnmarked();
    }
    const req = ctx.switchToHttp().getRequest<AuthRequest>();
    const principal = await this.principal(req.headers.authorization);
    const user = (req.user = principal.user);
    req.reauthenticatedAt = principal.reauthenticatedAt;
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

  /**
   * The live session behind a bearer access token. jsonwebtoken would check `exp` against the
   * machine's clock; the business clock (which the dev routes move) is the one that counts, so expiry
   * is checked here instead. A session lookup that fails (the database unreachable) is thrown as it
   * is: it says nothing about the token.
   */
  private async principal(header: string | undefined): Promise<Principal> {
    const token = bearerToken(header);
    if (!token) throw IdentityErrors.accessTokenMissing();
    let payload: Record<string, unknown>;
    try {
      payload = this.jwt.verify(token, { ignoreExpiration: true });
    } catch {
      throw IdentityErrors.accessTokenMissing();
    }
    const { sub, sid, exp } = payload;
    if (typeof sub !== 'string' || typeof sid !== 'string' || typeof exp !== 'number') {
      throw IdentityErrors.accessTokenInvalid();
    }
    if (exp * SECOND_MS <= this.clock.nowMs()) throw IdentityErrors.accessTokenExpired();
    const principal = await this.sessions.principal(sub, sid);
    if (!principal) throw IdentityErrors.accessSessionEnded();
    return principal;
  }
}

import { ExecutionContext, Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { createValidationPipe } from '../../common/validation';
import { LoginDto } from '../dto/auth.dto';
import { IdentityErrors } from '../identity.errors';

/**
 * passport-local for POST /auth/login. Guards run before pipes, so the body is validated here first:
 * bad input is a 400 like anywhere else, and the strategy only ever sees two well-formed strings.
 */
@Injectable()
export class LocalLoginGuard extends AuthGuard('local') {
  private readonly pipe = createValidationPipe();

  override async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<FastifyRequest>();
    req.body = await this.pipe.transform(req.body ?? {}, { type: 'body', metatype: LoginDto });
    return (await super.canActivate(ctx)) as boolean;
  }

  override handleRequest<TUser>(err: unknown, user: TUser | false): TUser {
    if (err) throw err;
    if (!user) throw IdentityErrors.invalidCredentials();
    return user;
  }
}

import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { createSecretKey } from 'node:crypto';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { Clock } from '../../common/clock.service';
import { SECOND_MS } from '../../common/time';
import { AppConfig } from '../../config/app-config';
import { IdentityErrors } from '../identity.errors';
import { Principal, SessionsService } from '../sessions.service';

/**
 * Bearer access tokens. jsonwebtoken would check `exp` against the machine's clock; the business
 * clock (which the dev routes move) is the one that counts, so expiry is checked here instead.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    config: AppConfig,
    private readonly sessions: SessionsService,
    private readonly clock: Clock,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      // A KeyObject (which jsonwebtoken accepts, though the typings say string | Buffer): given a
      // string it first tries, and fails, to parse it as a public key on every request.
      secretOrKey: createSecretKey(Buffer.from(config.jwtSecret)) as unknown as Buffer,
      algorithms: ['HS256'],
      ignoreExpiration: true,
    });
  }

  async validate(payload: Record<string, unknown>): Promise<Principal> {
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

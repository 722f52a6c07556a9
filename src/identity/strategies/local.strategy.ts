import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { Strategy } from 'passport-local';
import { LoginDto } from '../dto/auth.dto';
import { VerifiedUser } from '../identity.hooks';
import { LoginService } from '../login.service';
import { clientContextOf } from '../request-context';

/** Email + password login. The body was validated (LoginDto) by LocalLoginGuard before this runs. */
@Injectable()
export class LocalStrategy extends PassportStrategy(Strategy, 'local') {
  constructor(private readonly login: LoginService) {
    super({ usernameField: 'email', passwordField: 'password', passReqToCallback: true, session: false });
  }

  validate(req: FastifyRequest, email: string, password: string): Promise<VerifiedUser> {
    const body = req.body as LoginDto;
    return this.login.checkPassword({ purpose: 'login', email, deviceToken: body.deviceToken, ...clientContextOf(req) }, password);
  }
}

import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { createSecretKey } from 'node:crypto';
import { PassportModule } from '@nestjs/passport';
import { AuditModule } from '../audit/audit.module';
import { AppConfig } from '../config/app-config';
import { NotificationsModule } from '../notifications/notifications.module';
import { AccountService } from './account.service';
import { AdminUsersController } from './admin-users.controller';
import { AdminUsersService } from './admin-users.service';
import { AuthController } from './auth.controller';
import { AccessGuard } from './guards/access.guard';
import { LocalLoginGuard } from './guards/local-login.guard';
import { IdentityHooks } from './identity.hooks';
import { IdentityService } from './identity.service';
import { LoginService } from './login.service';
import { MeController } from './me.controller';
import { PasswordHasherService } from './passwords/password-hasher.service';
import { SessionsRepository } from './sessions.repository';
import { SessionsService } from './sessions.service';
import { LocalStrategy } from './strategies/local.strategy';
import { UserTokensRepository } from './user-tokens.repository';
import { UsersRepository } from './users.repository';

/**
 * Users, roles, passwords, sessions and tokens, and the global access guard. Other modules read users
 * through IdentityService and plug into IdentityHooks.
 */
@Module({
  imports: [
    AuditModule,
    NotificationsModule,
    PassportModule.register({ session: false }),
    JwtModule.registerAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        // A KeyObject (which jsonwebtoken takes, though the typings say string | Buffer): given a
        // string, it first tries, and fails, to read it as an asymmetric key on every sign and verify.
        secret: createSecretKey(Buffer.from(config.jwtSecret)) as unknown as Buffer,
        signOptions: { algorithm: 'HS256' },
        verifyOptions: { algorithms: ['HS256'] },
      }),
    }),
  ],
  controllers: [AuthController, MeController, AdminUsersController],
  providers: [
    IdentityHooks,
    IdentityService,
    UsersRepository,
    SessionsRepository,
    UserTokensRepository,
    SessionsService,
    LoginService,
    AccountService,
    AdminUsersService,
    PasswordHasherService,
    LocalStrategy,
    LocalLoginGuard,
    { provide: APP_GUARD, useClass: AccessGuard },
  ],
  exports: [IdentityHooks, IdentityService, LoginService],
})
export class IdentityModule {}

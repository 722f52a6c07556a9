import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
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
import { JwtStrategy } from './strategies/jwt.strategy';
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
        secret: config.jwtSecret,
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
    JwtStrategy,
    LocalLoginGuard,
    { provide: APP_GUARD, useClass: AccessGuard },
  ],
  exports: [IdentityHooks, IdentityService, LoginService],
})
export class IdentityModule {}

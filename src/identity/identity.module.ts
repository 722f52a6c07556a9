import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config';
import { AccountService } from './account.service';
import { AdminUsersController } from './admin-users.controller';
import { AdminUsersService } from './admin-users.service';
import { AuthController } from './auth.controller';
import { RefreshTokenEntity } from './entities/refresh-token.entity';
import { SessionEntity } from './entities/session.entity';
import { UserTokenEntity } from './entities/user-token.entity';
import { UserEntity } from './entities/user.entity';
import { AccessGuard } from './guards/access.guard';
import { LocalLoginGuard } from './guards/local-login.guard';
import { IdentityHooks } from './identity.hooks';
import { IdentityService } from './identity.service';
import { LoginService } from './login.service';
import { MeController } from './me.controller';
import { PasswordHasher } from './passwords/password-hasher.service';
import { SessionsService } from './sessions.service';
import { JwtStrategy } from './strategies/jwt.strategy';
import { LocalStrategy } from './strategies/local.strategy';
import { UsersService } from './users.service';

/**
 * Users, roles, passwords, sessions and tokens, and the global access guard. Global so that any
 * module can read users through IdentityService and plug into IdentityHooks.
 */
@Global()
@Module({
  imports: [
    TypeOrmModule.forFeature([UserEntity, SessionEntity, RefreshTokenEntity, UserTokenEntity]),
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
    UsersService,
    SessionsService,
    LoginService,
    AccountService,
    AdminUsersService,
    PasswordHasher,
    LocalStrategy,
    JwtStrategy,
    LocalLoginGuard,
    { provide: APP_GUARD, useClass: AccessGuard },
  ],
  exports: [IdentityHooks, IdentityService, LoginService, SessionsService, AdminUsersService, PasswordHasher],
})
export class IdentityModule {}

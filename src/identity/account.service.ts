import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AuthUser } from '../common/auth.decorators';
import { Clock } from '../common/clock.service';
import { addSeconds } from '../common/time';
import { AppConfig } from '../config/app-config';
import { PgError, pgCode } from '../database/pg-errors';
import { TransactionRunner } from '../database/transaction-runner';
import { MailService } from '../notifications/mail.service';
import { ChangePasswordDto, RegisterDto, ResetPasswordDto } from './dto/auth.dto';
import { IdentityErrors } from './identity.errors';
import { identityMails } from './identity.mails';
import { ClientContext, IdentityHooks, UserRecord } from './identity.hooks';
import { LoginService } from './login.service';
import { PasswordHasherService } from './passwords/password-hasher.service';
import { SessionsService } from './sessions.service';
import { hashToken, newOpaqueToken } from './tokens';
import { UserTokenPurpose, UserTokensRepository } from './user-tokens.repository';
import { UsersRepository } from './users.repository';

const TOKEN_TTL_SECONDS: Record<UserTokenPurpose, number> = {
  email_verification: 48 * 3600,
  password_reset: 3600,
};

/** Account life cycle: registration, email verification, password change and reset, email change. */
@Injectable()
export class AccountService {
  constructor(
    private readonly users: UsersRepository,
    private readonly tokens: UserTokensRepository,
    private readonly sessions: SessionsService,
    private readonly login: LoginService,
    private readonly hasher: PasswordHasherService,
    private readonly mail: MailService,
    private readonly hooks: IdentityHooks,
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  async register(dto: RegisterDto, ctx: ClientContext): Promise<UserRecord> {
    const passwordHash = await this.hasher.hash(dto.password);
    return this.tx.run(async (em) => {
      const user = await this.users.insert(em, { email: dto.email, displayName: dto.displayName, passwordHash }, this.clock.now());
      if (!user) throw IdentityErrors.emailTaken();
      await this.sendToken(em, user, 'email_verification');
      // The fraud rules and the sign-up PROMO bonus are `userRegistered` listeners (IdentityHooks), in this transaction.
      await this.hooks.emit('userRegistered', em, user, ctx);
      return user;
    });
  }

  async verifyEmail(token: string): Promise<void> {
    await this.tx.run(async (em) => {
      const now = this.clock.now();
      const t = await this.consumeToken(em, token, 'email_verification');
      const verified = await this.users.markEmailVerified(em, t.userId, t.email, now);
      const user = await this.users.findById(em, t.userId);
      if (!user || user.email.toLowerCase() !== t.email.toLowerCase()) throw IdentityErrors.invalidToken(); // sent to a former address
      if (verified) await this.hooks.emit('emailVerified', em, user);
    });
  }

  /** Always answers the same way; a token goes out only when the account exists. */
  async requestPasswordReset(email: string): Promise<void> {
    await this.tx.run(async (em) => {
      const user = await this.users.lockByEmail(em, email);
      if (user) await this.sendToken(em, user, 'password_reset');
    });
  }

  async resetPassword(dto: ResetPasswordDto, ctx: ClientContext): Promise<void> {
    const passwordHash = await this.hasher.hash(dto.newPassword);
    await this.tx.run(async (em) => {
      const now = this.clock.now();
      const t = await this.consumeToken(em, dto.token, 'password_reset');
      const user = await this.users.lock(em, t.userId);
      if (!user || user.email.toLowerCase() !== t.email.toLowerCase()) throw IdentityErrors.invalidToken();
      await this.users.setPasswordHash(em, user.id, passwordHash, now);
      await this.tokens.retireResetTokens(em, user.id, now);
      await this.sessions.revokeAll(em, user.id, 'password_reset');
      await this.hooks.emit('passwordChanged', em, user, 'reset', ctx);
    });
  }

  /**
   * Needs the current password (counted by the login guard like a login), which must still be current
   * when the new one is written (a concurrent change wins, this one is refused); other sessions end,
   * and reset links already mailed stop working.
   */
  async changePassword(caller: AuthUser, dto: ChangePasswordDto, ctx: ClientContext): Promise<void> {
    const verified = await this.login.checkPassword(
      { purpose: 'password_change', email: caller.email, ...ctx },
      dto.currentPassword,
      caller.id,
    );
    const passwordHash = await this.hasher.hash(dto.newPassword);
    await this.tx.run(async (em) => {
      const now = this.clock.now();
      const user = await this.users.lockWithCredential(em, caller.id, verified.credentialStamp, 'update');
      if (!user) throw IdentityErrors.invalidCredentials();
      await this.users.setPasswordHash(em, user.id, passwordHash, now);
      await this.tokens.retireResetTokens(em, user.id, now);
      await this.sessions.revokeAll(em, user.id, 'password_change', caller.sessionId);
      await this.hooks.emit('passwordChanged', em, user, 'change', ctx);
    });
  }

  /** A sensitive action: the new address must be verified again, and the old one is told. */
  async changeEmail(caller: AuthUser, email: string, ctx: ClientContext): Promise<UserRecord> {
    return this.tx.run(async (em) => {
      const before = await this.users.lock(em, caller.id);
      if (!before) throw IdentityErrors.accountGone();
      if (before.email.toLowerCase() === email.toLowerCase()) return before;
      let user: UserRecord;
      try {
        user = (await this.users.setEmail(em, caller.id, email, this.clock.now()))!;
      } catch (err) {
        if (pgCode(err) === PgError.UNIQUE_VIOLATION) throw IdentityErrors.emailTaken();
        throw err;
      }
      await this.mail.send(em, identityMails.emailChangedNotice(before.email, email));
      await this.sendToken(em, user, 'email_verification');
      await this.hooks.emit('emailChanged', em, user, before.email, ctx);
      return user;
    });
  }

  private async sendToken(em: EntityManager, user: UserRecord, purpose: UserTokenPurpose): Promise<void> {
    const now = this.clock.now();
    const token = newOpaqueToken();
    const ttlSeconds = TOKEN_TTL_SECONDS[purpose];
    await this.tokens.insert(em, {
      userId: user.id,
      purpose,
      tokenHash: hashToken(token),
      email: user.email,
      now,
      expiresAt: addSeconds(now, ttlSeconds),
    });
    const build = purpose === 'password_reset' ? identityMails.passwordReset : identityMails.verifyEmail;
    await this.mail.send(em, build(user.email, this.config.webAppUrl, token, ttlSeconds));
  }

  /** Marks a live token used (at most once, whoever races) and returns whose it was. */
  private async consumeToken(em: EntityManager, token: string, purpose: UserTokenPurpose): Promise<{ userId: string; email: string }> {
    const found = await this.tokens.consume(em, hashToken(token), purpose, this.clock.now());
    if (!found) throw IdentityErrors.invalidToken();
    return found;
  }
}

import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AuthUser } from '../common/auth.decorators';
import { Clock } from '../common/clock.service';
import { AppError } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { PgError, pgCode } from '../database/pg-errors';
import { queryRows } from '../database/sql';
import { TransactionRunner } from '../database/transaction-runner';
import { MailService } from '../notifications/mail.service';
import { ChangePasswordDto, RegisterDto, ResetPasswordDto } from './dto/auth.dto';
import { UserTokenPurpose } from './entities/user-token.entity';
import { identityMails } from './identity.mails';
import { ClientContext, IdentityHooks, UserRecord } from './identity.hooks';
import { invalidCredentials, LoginService } from './login.service';
import { PasswordHasher } from './passwords/password-hasher.service';
import { SessionsService } from './sessions.service';
import { hashToken, newOpaqueToken } from './tokens';
import { UsersService } from './users.service';

const TOKEN_TTL_SECONDS: Record<UserTokenPurpose, number> = {
  email_verification: 48 * 3600,
  password_reset: 3600,
};

const invalidToken = () => new AppError('INVALID_TOKEN', 'The token is not valid, has expired or was already used');

/** Account life cycle: registration, email verification, password change and reset, email change. */
@Injectable()
export class AccountService {
  constructor(
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly login: LoginService,
    private readonly hasher: PasswordHasher,
    private readonly mail: MailService,
    private readonly hooks: IdentityHooks,
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  async register(dto: RegisterDto): Promise<UserRecord> {
    const passwordHash = await this.hasher.hash(dto.password);
    return this.tx.run(async (em) => {
      const user = await this.users.insert(em, { email: dto.email, displayName: dto.displayName, passwordHash }, this.clock.now());
      if (!user) throw new AppError('CONFLICT', 'An account with this email already exists');
      await this.sendToken(em, user, 'email_verification');
      // Sign-up PROMO bonus: granted by a `userRegistered` listener (IdentityHooks), in this transaction.
      await this.hooks.emit('userRegistered', em, user);
      return user;
    });
  }

  async verifyEmail(token: string): Promise<void> {
    await this.tx.run(async (em) => {
      const now = this.clock.now();
      const t = await this.consumeToken(em, token, 'email_verification');
      const rows = await queryRows<{ id: string }>(
        em,
        `UPDATE users SET email_verified_at = $3, updated_at = $3
         WHERE id = $1 AND email = $2 AND email_verified_at IS NULL RETURNING id`,
        [t.userId, t.email, now],
      );
      const user = await this.users.findById(t.userId, em);
      if (!user || user.email.toLowerCase() !== t.email.toLowerCase()) throw invalidToken(); // sent to a former address
      if (rows.length) await this.hooks.emit('emailVerified', em, user);
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
      if (!user || user.email.toLowerCase() !== t.email.toLowerCase()) throw invalidToken();
      await this.users.setPasswordHash(em, user.id, passwordHash, now);
      await this.retireResetTokens(em, user.id, now);
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
      if (!user) throw invalidCredentials();
      await this.users.setPasswordHash(em, user.id, passwordHash, now);
      await this.retireResetTokens(em, user.id, now);
      await this.sessions.revokeAll(em, user.id, 'password_change', caller.sessionId);
      await this.hooks.emit('passwordChanged', em, user, 'change', ctx);
    });
  }

  /** A sensitive action: the new address must be verified again, and the old one is told. */
  async changeEmail(caller: AuthUser, email: string, ctx: ClientContext): Promise<UserRecord> {
    return this.tx.run(async (em) => {
      const before = await this.users.lock(em, caller.id);
      if (!before) throw new AppError('UNAUTHENTICATED', 'The account no longer exists');
      if (before.email.toLowerCase() === email.toLowerCase()) return before;
      let rows: { id: string }[];
      try {
        rows = await queryRows(em, 'UPDATE users SET email = $2, email_verified_at = NULL, updated_at = $3 WHERE id = $1 RETURNING id', [
          caller.id,
          email,
          this.clock.now(),
        ]);
      } catch (err) {
        if (pgCode(err) === PgError.UNIQUE_VIOLATION) throw new AppError('CONFLICT', 'An account with this email already exists');
        throw err;
      }
      const user = (await this.users.findById(rows[0].id, em))!;
      await this.mail.send(em, identityMails.emailChangedNotice(before.email, email));
      await this.sendToken(em, user, 'email_verification');
      await this.hooks.emit('emailChanged', em, user, before.email, ctx);
      return user;
    });
  }

  private async sendToken(em: EntityManager, user: UserRecord, purpose: UserTokenPurpose): Promise<void> {
    const now = this.clock.now();
    const token = newOpaqueToken();
    await em.query(
      `INSERT INTO user_tokens (user_id, purpose, token_hash, email, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
      [user.id, purpose, hashToken(token), user.email, now, new Date(now.getTime() + TOKEN_TTL_SECONDS[purpose] * 1000)],
    );
    const build = purpose === 'password_reset' ? identityMails.passwordReset : identityMails.verifyEmail;
    await this.mail.send(em, build(user.email, this.config.publicUrl, token, TOKEN_TTL_SECONDS[purpose]));
  }

  /** A password was set: reset links sent for the one before no longer work. */
  private async retireResetTokens(em: EntityManager, userId: string, now: Date): Promise<void> {
    await em.query(`UPDATE user_tokens SET used_at = $2 WHERE user_id = $1 AND purpose = 'password_reset' AND used_at IS NULL`, [
      userId,
      now,
    ]);
  }

  /** Marks a live token used (at most once, whoever races) and returns whose it was. */
  private async consumeToken(em: EntityManager, token: string, purpose: UserTokenPurpose): Promise<{ userId: string; email: string }> {
    const now = this.clock.now();
    const rows = await queryRows<{ user_id: string; email: string }>(
      em,
      `UPDATE user_tokens SET used_at = $3
       WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3 RETURNING user_id, email`,
      [hashToken(token), purpose, now],
    );
    if (!rows.length) throw invalidToken();
    return { userId: rows[0].user_id, email: rows[0].email };
  }
}

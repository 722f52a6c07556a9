import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AuthUser } from '../common/auth.decorators';
import { Clock } from '../common/clock.service';
import { TransactionRunner } from '../database/transaction-runner';
import { userView, UserView } from './dto/user.view';
import { IdentityErrors } from './identity.errors';
import { ClientContext, CredentialAttempt, IdentityHooks, UserRecord, VerifiedUser } from './identity.hooks';
import { PasswordHasherService } from './passwords/password-hasher.service';
import { SessionsService } from './sessions.service';
import { credentialStamp } from './tokens';
import { UsersRepository } from './users.repository';

export interface LoginResult {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  deviceToken?: string;
  user: UserView;
}

/**
 * Password checks and logins, all through the login seam (`IdentityHooks.loginGuard`):
 * guard before → verify → guard after; then, for a login, assessment → session.
 */
@Injectable()
export class LoginService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly users: UsersRepository,
    private readonly hasher: PasswordHasherService,
    private readonly sessions: SessionsService,
    private readonly hooks: IdentityHooks,
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
  ) {}

  /**
   * Verifies a password. Unknown emails are verified against a dummy hash, and every failure is the
   * same INVALID_CREDENTIALS, so neither the answer nor its timing tells whether the email exists.
   */
  async checkPassword(attempt: CredentialAttempt, password: string, expectedUserId?: string): Promise<VerifiedUser> {
    const guard = this.hooks.loginGuard;
    const ticket = await guard.beforePasswordCheck(attempt);
    const found = await this.users.findWithPasswordHash(this.dataSource, attempt.email);
    const ok = (await this.hasher.verify(found?.passwordHash, password)) && (!expectedUserId || found?.user.id === expectedUserId);
    await guard.afterPasswordCheck(attempt, { user: found?.user ?? null, ok }, ticket);
    if (!ok || !found) throw IdentityErrors.invalidCredentials();
    return { ...found.user, credentialStamp: credentialStamp(found.passwordHash) };
  }

  /** The password was right: let the guard assess the login, then open the session. */
  async login(user: VerifiedUser, attempt: CredentialAttempt): Promise<LoginResult> {
    await this.hooks.loginGuard.assessLogin(attempt, user);
    return this.startSession(user, attempt);
  }

  /**
   * Locks the user's row FOR SHARE for the rest of the transaction, and for a user verified by a
   * password check, only while that password is still the current one (INVALID_CREDENTIALS if not).
   * A password change or reset locks the row FOR UPDATE before it revokes sessions, so whatever is
   * opened after this call (a session, a step-up challenge) either commits first and is ended by the
   * change, or sees the change and is refused: a replaced password never opens a session.
   */
  async lockCredential(em: EntityManager, user: UserRecord | VerifiedUser): Promise<void> {
    const locked =
      'credentialStamp' in user
        ? (await this.users.lockWithCredential(em, user.id, user.credentialStamp, 'share')) !== null
        : await this.users.lockShared(em, user.id);
    if (!locked) throw IdentityErrors.invalidCredentials();
  }

  /**
   * Opens a session for a user whose login has been approved: directly after the password check, or
   * after a step-up, whose `claim` (spending the challenge) runs once the user's row is locked.
   */
  startSession(
    user: UserRecord | VerifiedUser,
    attempt: CredentialAttempt,
    opts: { em?: EntityManager; claim?: (em: EntityManager) => Promise<void> } = {},
  ): Promise<LoginResult> {
    return this.tx.within(opts.em, async (em) => {
      await this.lockCredential(em, user);
      await opts.claim?.(em);
      const tokens = await this.sessions.start(em, user.id, attempt, this.clock.now());
      const extra = await this.hooks.loginGuard.sessionStarted(em, attempt, user, tokens.sessionId);
      return {
        accessToken: tokens.accessToken,
        refreshToken: tokens.refreshToken,
        expiresIn: tokens.expiresIn,
        ...(extra.deviceToken ? { deviceToken: extra.deviceToken } : {}),
        user: userView(user),
      };
    });
  }

  /** POST /auth/reauth: the password (or a TOTP code) again, which opens the sensitive-action window. */
  async reauthenticate(caller: AuthUser, ctx: ClientContext, proof: { password?: string; totp?: string }): Promise<void> {
    if ((proof.password === undefined) === (proof.totp === undefined)) throw IdentityErrors.reauthProofMissing();
    if (proof.password !== undefined) {
      await this.checkPassword({ purpose: 'reauth', email: caller.email, ...ctx }, proof.password, caller.id);
    } else {
      const factor = this.hooks.secondFactor;
      if (!factor || !(await factor.verifyTotp(caller, proof.totp!, ctx))) throw IdentityErrors.wrongCode();
    }
    await this.sessions.markReauthenticated(caller.sessionId);
  }
}

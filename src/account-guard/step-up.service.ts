import { Injectable } from '@nestjs/common';
import { createHash, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import { Clock } from '../common/clock.service';
import { AppError } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { queryRows } from '../database/sql';
import { TransactionRunner } from '../database/transaction-runner';
import { EntityManager } from 'typeorm';
import { ClientContext, CredentialAttempt, VerifiedUser } from '../identity/identity.hooks';
import { IdentityService } from '../identity/identity.service';
import { LoginResult, LoginService } from '../identity/login.service';
import { MailService } from '../notifications/mail.service';
import { DevicesService } from './devices.service';
import { assessLoginRisk } from './login-risk';
import { LockoutService } from './lockout.service';
import { SecretBox } from './secret-box';
import { SecurityEventsService } from './security-events.service';
import { TotpService } from './totp.service';

const MAX_ATTEMPTS = 5;

interface ChallengeRow {
  id: string;
  user_id: string;
  method: 'totp' | 'email';
  code_hash: Buffer | null;
  device_token_ciphertext: Buffer | null;
  attempts: number;
}

const codeHash = (challengeId: string, code: string) => createHash('sha256').update(`${challengeId}:${code}`).digest();
const expired = () => new AppError('INVALID_TOKEN', 'This sign-in challenge has expired or was used; sign in again');

/**
 * Risky logins (see login-risk.ts) are held back until a second factor is shown: the TOTP app when
 * the account has one, otherwise a one-time code sent by email (valid 10 minutes). A challenge takes
 * at most 5 codes, and every wrong code also counts toward the account's lockout.
 */
@Injectable()
export class StepUpService {
  constructor(
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly box: SecretBox,
    private readonly devices: DevicesService,
    private readonly totp: TotpService,
    private readonly lockout: LockoutService,
    private readonly mail: MailService,
    private readonly events: SecurityEventsService,
    private readonly identity: IdentityService,
    private readonly login: LoginService,
  ) {}

  /** The login seam's assessment: throws STEP_UP_REQUIRED with a fresh challenge when the login is risky. */
  async assess(attempt: CredentialAttempt, user: VerifiedUser): Promise<void> {
    if (attempt.purpose !== 'login') return;
    const risk = assessLoginRisk(await this.devices.signals(user, attempt), this.config.security.loginRisk);
    if (!risk.stepUp) return;
    const method = (await this.totp.isEnabled(user.id)) ? 'totp' : 'email';
    const id = randomUUID();
    const code = method === 'email' ? String(randomInt(0, 1_000_000)).padStart(6, '0') : undefined;
    await this.tx.run(async (em) => {
      // Only while the password that was checked is still the account's (see withdrawPending).
      await this.login.holdCredential(em, user);
      const now = this.clock.now();
      await em.query(
        `INSERT INTO step_up_challenges (id, user_id, method, code_hash, device_token_ciphertext, ip, user_agent, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [
          id,
          user.id,
          method,
          code ? codeHash(id, code) : null,
          attempt.deviceToken ? this.box.seal(attempt.deviceToken, id) : null,
          attempt.ip,
          attempt.userAgent ?? null,
          now,
          new Date(now.getTime() + this.config.security.stepUpCodeTtlSeconds * 1000),
        ],
      );
      await this.events.record(em, user.id, 'step_up_required', { ip: attempt.ip, data: { method, reasons: risk.reasons } });
      if (code) {
        await this.mail.send(em, {
          to: user.email,
          subject: `Your Bazaar sign-in code: ${code}`,
          text: `Someone (hopefully you) is signing in to your account from a new device. Your code is ${code}; it works once, for ${Math.round(this.config.security.stepUpCodeTtlSeconds / 60)} minutes.\n\nIf this was not you, do not share the code: reset your password.`,
          data: { kind: 'step_up_code', code, challengeId: id },
        });
      }
    });
    throw new AppError('STEP_UP_REQUIRED', 'Confirm this sign-in with a second factor', { challengeId: id, methods: [method] });
  }

  /** POST /auth/step-up: the code completes the held-back login, exactly once. */
  async complete(challengeId: string, code: string, ctx: ClientContext): Promise<LoginResult> {
    // Spend one of the challenge's attempts first (committed even if the code is wrong).
    const [challenge] = await queryRows<ChallengeRow>(
      this.tx.manager,
      `UPDATE step_up_challenges SET attempts = attempts + 1
       WHERE id = $1 AND completed_at IS NULL AND expires_at > $2 AND attempts < $3
       RETURNING id, user_id, method, code_hash, device_token_ciphertext, attempts`,
      [challengeId, this.clock.now(), MAX_ATTEMPTS],
    );
    if (!challenge) throw expired();
    const user = await this.identity.getUser(challenge.user_id);
    const ok =
      challenge.method === 'totp'
        ? await this.totp.verify(user, code, ctx)
        : await this.lockout.guard({ purpose: 'step_up', email: user.email, ip: ctx.ip }, user.id, async () =>
            timingSafeEqual(codeHash(challenge.id, code), challenge.code_hash!),
          );
    if (!ok) {
      throw new AppError('INVALID_CREDENTIALS', 'The code is not correct', { attemptsLeft: MAX_ATTEMPTS - challenge.attempts });
    }
    const attempt: CredentialAttempt = {
      purpose: 'login',
      email: user.email,
      ip: ctx.ip,
      userAgent: ctx.userAgent,
      deviceToken: challenge.device_token_ciphertext ? this.box.open(challenge.device_token_ciphertext, challenge.id) : undefined,
    };
    // The challenge is spent once the user's row is held, so a password change either withdraws it
    // first or waits for this session and then ends it.
    const claim = async (em: EntityManager) => {
      const done = await queryRows(
        em,
        'UPDATE step_up_challenges SET completed_at = $2 WHERE id = $1 AND completed_at IS NULL RETURNING id',
        [challenge.id, this.clock.now()],
      );
      if (!done.length) throw expired();
    };
    return this.tx.run((em) => this.login.startSession(user, attempt, { em, claim }));
  }

  /**
   * A password change or reset (in its transaction) withdraws the pending challenges: each was opened
   * by the password that no longer works, so none may turn into a session.
   */
  async withdrawPending(em: EntityManager, userId: string): Promise<void> {
    await em.query('DELETE FROM step_up_challenges WHERE user_id = $1 AND completed_at IS NULL', [userId]);
  }
}

import { Injectable } from '@nestjs/common';
import { createHash, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { Clock } from '../common/clock.service';
import { addSeconds } from '../common/time';
import { AppConfig } from '../config/app-config';
import { TransactionRunner } from '../database/transaction-runner';
import { ClientContext, CredentialAttempt, VerifiedUser } from '../identity/identity.hooks';
import { IdentityService } from '../identity/identity.service';
import { LoginResult, LoginService } from '../identity/login.service';
import { MailService } from '../notifications/mail.service';
import { AccountGuardErrors } from './account-guard.errors';
import { accountGuardMails } from './account-guard.mails';
import { DevicesService } from './devices.service';
import { LockoutService } from './lockout.service';
import { assessLoginRisk, isNewDevice, isNewNetwork, RiskReason } from './login-risk.policy';
import { LoginScreens } from './login-screens';
import { SecretBoxService } from './secret-box.service';
import { SecurityEventsService } from './security-events.service';
import { StepUpRepository } from './step-up.repository';
import { TotpService } from './totp.service';

const MAX_ATTEMPTS = 5;

const codeHash = (challengeId: string, code: string) => createHash('sha256').update(`${challengeId}:${code}`).digest();

/**
 * Risky logins (see login-risk.policy.ts), and those a login screen (the fraud rules) sends to review,
 * are held back until a second factor is shown: the TOTP app when the account has one, otherwise a
 * one-time code sent by email (valid 10 minutes). A challenge takes at most 5 codes, and every wrong
 * code also counts toward the account's lockout. A login a screen blocks is refused (403 FRAUD_BLOCKED).
 */
@Injectable()
export class StepUpService {
  constructor(
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly challenges: StepUpRepository,
    private readonly box: SecretBoxService,
    private readonly devices: DevicesService,
    private readonly totp: TotpService,
    private readonly lockout: LockoutService,
    private readonly mail: MailService,
    private readonly events: SecurityEventsService,
    private readonly identity: IdentityService,
    private readonly login: LoginService,
    private readonly screens: LoginScreens,
  ) {}

  /**
   * The login seam's assessment: throws FRAUD_BLOCKED when a screen blocks the login, and
   * STEP_UP_REQUIRED with a fresh challenge when it is risky or a screen sends it to review.
   */
  async assess(attempt: CredentialAttempt, user: VerifiedUser): Promise<void> {
    if (attempt.purpose !== 'login') return;
    const signals = await this.devices.signals(user, attempt);
    const risk = assessLoginRisk(signals, this.config.security.loginRisk);
    const id = randomUUID();
    const verdict = await this.screens.verdict({
      attemptId: id,
      attempt,
      user,
      deviceIsNew: isNewDevice(signals),
      networkIsNew: isNewNetwork(signals),
      deviceId: signals.deviceClusterId,
    });
    if (verdict === 'BLOCK') throw AccountGuardErrors.loginBlocked();
    if (!risk.stepUp && verdict !== 'REVIEW') return;
    const reasons: (RiskReason | 'fraud_rule')[] = verdict === 'REVIEW' ? [...risk.reasons, 'fraud_rule'] : risk.reasons;
    const method = (await this.totp.isEnabled(user.id)) ? 'totp' : 'email';
    const code = method === 'email' ? String(randomInt(0, 1_000_000)).padStart(6, '0') : undefined;
    await this.tx.run(async (em) => {
      // Only while the password that was checked is still the account's (see withdrawPending).
      await this.login.lockCredential(em, user);
      const now = this.clock.now();
      const ttlSeconds = this.config.security.stepUpCodeTtlSeconds;
      await this.challenges.insert(em, {
        id,
        userId: user.id,
        method,
        codeHash: code ? codeHash(id, code) : null,
        deviceTokenCiphertext: attempt.deviceToken ? this.box.seal(attempt.deviceToken, id) : null,
        ip: attempt.ip,
        userAgent: attempt.userAgent ?? null,
        createdAt: now,
        expiresAt: addSeconds(now, ttlSeconds),
      });
      await this.events.record(em, user.id, 'step_up_required', { ip: attempt.ip, data: { method, reasons } });
      if (code) await this.mail.send(em, accountGuardMails.stepUpCode(user.email, code, id, ttlSeconds));
    });
    throw AccountGuardErrors.stepUpRequired(id, method);
  }

  /** POST /auth/step-up: the code completes the held-back login, exactly once. */
  async complete(challengeId: string, code: string, ctx: ClientContext): Promise<LoginResult> {
    // Spend one of the challenge's attempts first (committed even if the code is wrong).
    const challenge = await this.challenges.spendAttempt(this.tx.manager, challengeId, this.clock.now(), MAX_ATTEMPTS);
    if (!challenge) throw AccountGuardErrors.challengeExpired();
    const user = await this.identity.getUser(challenge.user_id);
    const ok =
      challenge.method === 'totp'
        ? await this.totp.verify(user, code, ctx)
        : await this.lockout.guard({ purpose: 'step_up', email: user.email, ip: ctx.ip }, user.id, async () =>
            timingSafeEqual(codeHash(challenge.id, code), challenge.code_hash!),
          );
    if (!ok) throw AccountGuardErrors.wrongChallengeCode(MAX_ATTEMPTS - challenge.attempts);
    const attempt: CredentialAttempt = {
      purpose: 'login',
      email: user.email,
      ip: ctx.ip,
      userAgent: ctx.userAgent,
      deviceToken: challenge.device_token_ciphertext ? this.box.open(challenge.device_token_ciphertext, challenge.id) : undefined,
    };
    // The challenge is spent once the user's row is locked, so a password change either withdraws it
    // first or waits for this session and then ends it.
    const claim = async (em: EntityManager) => {
      if (!(await this.challenges.complete(em, challenge.id, this.clock.now()))) throw AccountGuardErrors.challengeExpired();
    };
    return this.tx.run((em) => this.login.startSession(user, attempt, { em, claim }));
  }

  /**
   * A password change or reset (in its transaction) withdraws the pending challenges: each was opened
   * by the password that no longer works, so none may turn into a session.
   */
  withdrawPending(em: EntityManager, userId: string): Promise<void> {
    return this.challenges.deletePending(em, userId);
  }
}

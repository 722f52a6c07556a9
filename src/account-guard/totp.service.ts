import { Injectable } from '@nestjs/common';
import { generateSecret, generateURI, verify } from 'otplib';
import { DataSource } from 'typeorm';
import { AuthUser } from '../common/auth.decorators';
import { Clock } from '../common/clock.service';
import { AppError, invalidState } from '../common/errors';
import { queryRows } from '../database/sql';
import { TransactionRunner } from '../database/transaction-runner';
import { ClientContext } from '../identity/identity.hooks';
import { AccountGuardService } from './account-guard.service';
import { LockoutService } from './lockout.service';
import { SecretBox } from './secret-box';
import { SecurityEventsService } from './security-events.service';

const wrongCode = () => new AppError('VALIDATION_FAILED', 'The code is not correct', {}, [{ field: 'code', message: 'is not correct' }]);

/**
 * TOTP (RFC 6238, 30-second steps, one step of drift either way) on the business clock. Secrets are
 * sealed with AES-256-GCM; a code's time step is recorded when it is used, so no code works twice.
 * Every check counts toward the account's lockout like a password.
 */
@Injectable()
export class TotpService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    private readonly box: SecretBox,
    private readonly lockout: LockoutService,
    private readonly guard: AccountGuardService,
    private readonly events: SecurityEventsService,
  ) {}

  async isEnabled(userId: string): Promise<boolean> {
    const rows = await this.dataSource.query('SELECT 1 FROM totp_credentials WHERE user_id = $1 AND confirmed_at IS NOT NULL', [userId]);
    return rows.length > 0;
  }

  /** Starts (or restarts) an enrolment; it counts only once confirmed with a code. */
  async enroll(user: AuthUser): Promise<{ secret: string; otpauthUrl: string }> {
    const secret = generateSecret();
    await this.tx.run(async (em) => {
      const rows = await queryRows(
        em,
        `INSERT INTO totp_credentials (user_id, secret_ciphertext, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (user_id) DO UPDATE SET secret_ciphertext = $2, created_at = $3, last_used_step = NULL
         WHERE totp_credentials.confirmed_at IS NULL RETURNING user_id`,
        [user.id, this.box.seal(secret, user.id), this.clock.now()],
      );
      if (!rows.length) throw new AppError('CONFLICT', 'Two-factor authentication is already on; disable it first');
    });
    return { secret, otpauthUrl: generateURI({ issuer: 'Bazaar', label: user.email, secret }) };
  }

  async confirm(user: AuthUser, code: string, ctx: ClientContext): Promise<void> {
    const ok = await this.lockout.guard({ purpose: 'totp', email: user.email, ip: ctx.ip }, user.id, () =>
      this.consume(user.id, code, false),
    );
    if (!ok) {
      if (await this.isEnabled(user.id)) throw invalidState('Two-factor authentication is already on');
      if (!(await this.hasCredential(user.id, false))) throw invalidState('Start an enrolment first (POST /auth/2fa/totp/enroll)');
      throw wrongCode();
    }
    await this.tx.run((em) => this.events.record(em, user.id, 'totp_enabled', { ip: ctx.ip }));
  }

  /** The route is sensitive (recent re-authentication); the code proves the authenticator too. */
  async disable(user: AuthUser, code: string, ctx: ClientContext): Promise<void> {
    if (!(await this.isEnabled(user.id))) throw invalidState('Two-factor authentication is not on');
    if (!(await this.verify(user, code, ctx))) throw wrongCode();
    await this.tx.run(async (em) => {
      const rows = await queryRows(em, 'DELETE FROM totp_credentials WHERE user_id = $1 AND confirmed_at IS NOT NULL RETURNING user_id', [
        user.id,
      ]);
      if (!rows.length) throw invalidState('Two-factor authentication is not on');
      await this.guard.startCooling(em, user.id, 'totp_disabled');
      await this.events.record(em, user.id, 'totp_disabled', { ip: ctx.ip });
    });
  }

  /** Checks a code of an enabled authenticator (reauth, step-up), counted by the lockout. */
  verify(user: { id: string; email: string }, code: string, ctx: ClientContext): Promise<boolean> {
    return this.lockout.guard({ purpose: 'totp', email: user.email, ip: ctx.ip }, user.id, () => this.consume(user.id, code, true));
  }

  /**
   * True when `code` is valid now and newer than the last code used; records its time step in the
   * same statement that checks it was not used (and that the secret is still the one checked), so two
   * requests with one code cannot both pass.
   */
  private async consume(userId: string, code: string, confirmed: boolean): Promise<boolean> {
    const rows: { secret_ciphertext: Buffer; last_used_step: string | null }[] = await this.dataSource.query(
      `SELECT secret_ciphertext, last_used_step FROM totp_credentials WHERE user_id = $1 AND (confirmed_at IS NOT NULL) = $2`,
      [userId, confirmed],
    );
    if (!rows.length) return false;
    const secret = this.box.open(rows[0].secret_ciphertext, userId);
    const lastStep = rows[0].last_used_step === null ? undefined : Number(rows[0].last_used_step);
    let step: number;
    try {
      const result = await verify({
        secret,
        token: code,
        epoch: Math.floor(this.clock.nowMs() / 1000),
        epochTolerance: 30,
        afterTimeStep: lastStep,
      });
      if (!result.valid || !('timeStep' in result)) return false;
      step = result.timeStep;
    } catch {
      return false;
    }
    // Compare-and-set on the secret too: a re-enrolment between the read and here replaced the secret
    // this code was checked against, and must not be confirmed by it.
    const claimed = await queryRows(
      this.dataSource,
      `UPDATE totp_credentials SET last_used_step = $2, confirmed_at = COALESCE(confirmed_at, $3)
       WHERE user_id = $1 AND (confirmed_at IS NOT NULL) = $4 AND secret_ciphertext = $5
         AND (last_used_step IS NULL OR last_used_step < $2) RETURNING user_id`,
      [userId, step, this.clock.now(), confirmed, rows[0].secret_ciphertext],
    );
    return claimed.length > 0;
  }

  private async hasCredential(userId: string, confirmed: boolean): Promise<boolean> {
    const rows = await this.dataSource.query('SELECT 1 FROM totp_credentials WHERE user_id = $1 AND (confirmed_at IS NOT NULL) = $2', [
      userId,
      confirmed,
    ]);
    return rows.length > 0;
  }
}

import { Injectable } from '@nestjs/common';
import { generateSecret, generateURI, verify } from 'otplib';
import { DataSource } from 'typeorm';
import { AuthUser } from '../common/auth.decorators';
import { Clock } from '../common/clock.service';
import { SECOND_MS } from '../common/time';
import { TransactionRunner } from '../database/transaction-runner';
import { ClientContext } from '../identity/identity.hooks';
import { AccountGuardErrors } from './account-guard.errors';
import { AccountGuardService } from './account-guard.service';
import { LockoutService } from './lockout.service';
import { SecretBoxService } from './secret-box.service';
import { SecurityEventsService } from './security-events.service';
import { TotpRepository } from './totp.repository';

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
    private readonly credentials: TotpRepository,
    private readonly box: SecretBoxService,
    private readonly lockout: LockoutService,
    private readonly guard: AccountGuardService,
    private readonly events: SecurityEventsService,
  ) {}

  isEnabled(userId: string): Promise<boolean> {
    return this.credentials.exists(this.dataSource, userId, true);
  }

  /** Starts (or restarts) an enrolment; it counts only once confirmed with a code. */
  async enroll(user: AuthUser): Promise<{ secret: string; otpauthUrl: string }> {
    const secret = generateSecret();
    await this.tx.run(async (em) => {
      if (!(await this.credentials.enroll(em, user.id, this.box.seal(secret, user.id), this.clock.now()))) {
        throw AccountGuardErrors.totpEnrolledAlready();
      }
    });
    return { secret, otpauthUrl: generateURI({ issuer: 'Bazaar', label: user.email, secret }) };
  }

  async confirm(user: AuthUser, code: string, ctx: ClientContext): Promise<void> {
    const ok = await this.lockout.guard({ purpose: 'totp', email: user.email, ip: ctx.ip }, user.id, () =>
      this.consume(user.id, code, false),
    );
    if (!ok) {
      if (await this.isEnabled(user.id)) throw AccountGuardErrors.totpOnAlready();
      if (!(await this.credentials.exists(this.dataSource, user.id, false))) throw AccountGuardErrors.totpNotEnrolling();
      throw AccountGuardErrors.wrongTotpCode();
    }
    await this.tx.run((em) => this.events.record(em, user.id, 'totp_enabled', { ip: ctx.ip }));
  }

  /** The route is sensitive (recent re-authentication); the code proves the authenticator too. */
  async disable(user: AuthUser, code: string, ctx: ClientContext): Promise<void> {
    if (!(await this.isEnabled(user.id))) throw AccountGuardErrors.totpOff();
    if (!(await this.verify(user, code, ctx))) throw AccountGuardErrors.wrongTotpCode();
    await this.tx.run(async (em) => {
      if (!(await this.credentials.deleteConfirmed(em, user.id))) throw AccountGuardErrors.totpOff();
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
    const credential = await this.credentials.findSecret(this.dataSource, userId, confirmed);
    if (!credential) return false;
    const secret = this.box.open(credential.secret_ciphertext, userId);
    const lastStep = credential.last_used_step === null ? undefined : Number(credential.last_used_step);
    let step: number;
    try {
      const result = await verify({
        secret,
        token: code,
        epoch: Math.floor(this.clock.nowMs() / SECOND_MS),
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
    return this.credentials.claimStep(this.dataSource, userId, confirmed, credential.secret_ciphertext, step, this.clock.now());
  }
}

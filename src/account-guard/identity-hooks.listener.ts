import { Injectable, OnModuleInit } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { ClientContext, CredentialAttempt, IdentityHooks, PROFILE_NOW, PROFILE_USER, UserRecord } from '../identity/identity.hooks';
import { JobsService } from '../jobs/jobs.service';
import { AccountGuardService } from './account-guard.service';
import { DevicesService } from './devices.service';
import { LockoutService, LockoutTicket } from './lockout.service';
import { SecurityEventsService } from './security-events.service';
import { StepUpService } from './step-up.service';
import { TotpService } from './totp.service';

/** Plugs the account guard into identity's seams (login guard, account events, second factor, GET /me). */
@Injectable()
export class IdentityHooksListener implements OnModuleInit {
  constructor(
    private readonly hooks: IdentityHooks,
    private readonly lockout: LockoutService,
    private readonly stepUp: StepUpService,
    private readonly devices: DevicesService,
    private readonly totp: TotpService,
    private readonly guard: AccountGuardService,
    private readonly events: SecurityEventsService,
    private readonly jobs: JobsService,
  ) {}

  onModuleInit(): void {
    this.hooks.useLoginGuard({
      beforePasswordCheck: (a: CredentialAttempt) => this.lockout.before(a),
      afterPasswordCheck: (a, outcome, ticket) =>
        this.lockout.after(a, { ok: outcome.ok, userId: outcome.user?.id ?? null }, ticket as LockoutTicket),
      assessLogin: (a, user) => this.stepUp.assess(a, user),
      sessionStarted: async (em, a, user, sessionId) => {
        await this.lockout.forgive(em, a.email);
        return this.devices.sessionStarted(em, a, user, sessionId);
      },
    });
    this.hooks.subscribe({
      passwordChanged: (em, user, how, ctx) => this.passwordChanged(em, user, how, ctx),
      emailChanged: async (em, user, previousEmail, ctx) => {
        await this.guard.startCooling(em, user.id, 'email_change');
        await this.events.record(em, user.id, 'email_changed', { ip: ctx.ip, data: { previousEmail } });
      },
      refreshTokenReused: (em, userId, sessionId, ctx) =>
        this.events.record(em, userId, 'refresh_token_reuse', { ip: ctx.ip, data: { sessionId } }),
    });
    this.hooks.secondFactor = { verifyTotp: (user, code, ctx) => this.totp.verify(user, code, ctx) };
    const security = this.guard.stateColumn(PROFILE_USER, PROFILE_NOW);
    this.hooks.extendProfile({ sql: security.sql, view: (value) => ({ security: security.view(value) }) });
    this.jobs.registerPeriodic({ name: 'account-guard.prune-login-attempts', cron: '17 3 * * *', run: (now) => this.lockout.prune(now) });
  }

  private async passwordChanged(em: EntityManager, user: UserRecord, how: 'change' | 'reset', ctx: ClientContext): Promise<void> {
    await this.stepUp.withdrawPending(em, user.id);
    if (how === 'reset') {
      await this.lockout.clear(em, user.email);
      await this.guard.startCooling(em, user.id, 'password_reset');
    }
    await this.events.record(em, user.id, how === 'reset' ? 'password_reset' : 'password_changed', { ip: ctx.ip });
  }
}

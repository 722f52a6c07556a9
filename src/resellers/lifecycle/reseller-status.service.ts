import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../../audit/audit.service';
import { Clock } from '../../common/clock.service';
import { rethrowBadCursor } from '../../common/cursors';
import { decodeCursor, Page, pageLimit, PageQuery, toPage } from '../../common/pagination';
import { addDays } from '../../common/time';
import { AppConfig } from '../../config/app-config';
import { TransactionRunner } from '../../database/transaction-runner';
import { IdentityService } from '../../identity/identity.service';
import { CheckReportService } from '../vetting/check-report.service';
import { resellerView, ResellerView } from '../dto/views';
import { ResellerFlagChecks } from './reseller-flag-checks';
import { standingOf } from '../reseller-standing.policy';
import { ResellerAction, resellerMachine, ResellerStatus } from '../reseller-state';
import { ResellerMailer, ResellerMailKind } from '../resellers.mails';
import { ResellersErrors } from '../resellers.errors';
import { Reseller, ResellersRepository } from '../resellers.repository';

/** The status changes made here (`reapprove` is an approval: vetting.service.ts). */
type StatusChange = Exclude<ResellerAction, 'reapprove'>;
const CHANGE_RECORDED_AS: Record<StatusChange, ResellerMailKind> = {
  suspend: 'reseller.suspended',
  reinstate: 'reseller.reinstated',
  revoke: 'reseller.revoked',
};

/**
 * A reseller's lifecycle after approval (reseller-state.ts): suspend (by an admin, or by the system
 * with actor null), reinstate, revoke (the role is taken back), and renew after the periodic
 * re-vetting. Every change is audited and emailed. The wholesale route asks `assertMayStock`; a lost
 * dispute may `suspendAutomatically`.
 */
@Injectable()
export class ResellerStatusService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly resellers: ResellersRepository,
    private readonly flagChecks: ResellerFlagChecks,
    private readonly reports: CheckReportService,
    private readonly identity: IdentityService,
    private readonly audit: AuditService,
    private readonly mailer: ResellerMailer,
  ) {}

  /** Whether the user is an active reseller (may buy wholesale stock). */
  async mayStock(userId: string, em?: EntityManager): Promise<boolean> {
    return (await this.resellers.find(em ?? this.dataSource, userId))?.status === 'active';
  }

  /** 403 FORBIDDEN (NOT_ACTIVE_RESELLER) unless the user is an active reseller. */
  async assertMayStock(userId: string, em?: EntityManager): Promise<void> {
    if (!(await this.mayStock(userId, em))) throw ResellersErrors.notActiveReseller();
  }

  async get(userId: string): Promise<ResellerView> {
    const r = await this.resellers.find(this.dataSource, userId);
    if (!r) throw ResellersErrors.resellerNotFound();
    return this.view(r);
  }

  async list(q: PageQuery & { status?: ResellerStatus }): Promise<Page<ResellerView>> {
    const limit = pageLimit(q);
    const key = decodeCursor(q.cursor, 1);
    const rows = await this.resellers
      .list(this.dataSource, { status: q.status ?? null, after: key ? String(key[0]) : null, limit: limit + 1 })
      .catch(rethrowBadCursor);
    return toPage(
      rows,
      limit,
      (r) => this.view(r),
      (r) => [r.userId],
    );
  }

  /**
   * Suspends an active reseller in the caller's transaction: no new orders, open ones stay
   * resolvable. `actorId` null is the system (automatic suspension). 409 INVALID_STATE unless active.
   */
  async suspend(em: EntityManager, resellerId: string, reason: string, actorId: string | null): Promise<Reseller> {
    return this.change(em, resellerId, 'suspend', reason, actorId);
  }

  /** Suspends the reseller if it is active (the system's decision: no actor); answers whether it did. */
  async suspendAutomatically(em: EntityManager, resellerId: string, reason: string): Promise<boolean> {
    if ((await this.lock(em, resellerId)).status !== 'active') return false;
    await this.suspend(em, resellerId, `automatic: ${reason}`.slice(0, 2000), null);
    return true;
  }

  async suspendByAdmin(adminId: string, resellerId: string, note: string): Promise<ResellerView> {
    return this.tx.run(async (em) => this.view(await this.suspend(em, resellerId, note, adminId)));
  }

  /** Refused (409 INVALID_STATE, with the flags) while the account guard still flags the account (a hold, a freeze). */
  async reinstate(adminId: string, resellerId: string, note: string): Promise<ResellerView> {
    return this.tx.run(async (em) => {
      const flags = (await this.flagChecks.flagsOf(em, [{ userId: resellerId, since: this.clock.now() }])).get(resellerId);
      if (flags?.length) throw ResellersErrors.stillFlagged(flags);
      return this.view(await this.change(em, resellerId, 'reinstate', note, adminId));
    });
  }

  /** Ends the reseller's place in the program and takes the `reseller` role back; only a new approved application undoes it. */
  async revoke(adminId: string, resellerId: string, note: string): Promise<ResellerView> {
    return this.tx.run(async (em) => {
      const r = await this.change(em, resellerId, 'revoke', note, adminId);
      await this.identity.removeRole(em, resellerId, 'reseller');
      return this.view(r);
    });
  }

  /**
   * The periodic re-vetting is done: the next one is due RESELLER_REVET_DAYS from now. A fresh check
   * report (read before the transaction) is kept in the audit entry.
   */
  async renew(adminId: string, resellerId: string, note: string): Promise<ResellerView> {
    if (!(await this.resellers.find(this.dataSource, resellerId))) throw ResellersErrors.resellerNotFound();
    const report = await this.reports.build(resellerId, await this.reports.eligibility(resellerId));
    return this.tx.run(async (em) => {
      const r = await this.lock(em, resellerId);
      if (r.status === 'revoked') throw ResellersErrors.revokedNotRenewable();
      const now = this.clock.now();
      const renewed = await this.resellers.setVettingDue(em, resellerId, addDays(now, this.config.resellers.revetDays), now);
      await this.record(em, renewed, 'reseller.renewed', adminId, note, {
        previousVettingDueAt: r.vettingDueAt.toISOString(),
        vettingDueAt: renewed.vettingDueAt.toISOString(),
        checkReport: report,
      });
      return this.view(renewed);
    });
  }

  private async change(
    em: EntityManager,
    resellerId: string,
    action: StatusChange,
    reason: string,
    actorId: string | null,
  ): Promise<Reseller> {
    const r = await this.lock(em, resellerId);
    const status = resellerMachine.next(r.status, action);
    const changed = await this.resellers.setStatus(em, resellerId, status, reason, actorId, this.clock.now());
    await this.record(em, changed, CHANGE_RECORDED_AS[action], actorId, reason, { from: r.status, automatic: actorId === null });
    return changed;
  }

  private async record(
    em: EntityManager,
    r: Reseller,
    action: ResellerMailKind,
    actorId: string | null,
    reason: string,
    data: Record<string, unknown>,
  ): Promise<void> {
    await this.audit.record(em, {
      actorId,
      action,
      subjectType: 'reseller',
      subjectId: r.userId,
      reason,
      data: { status: r.status, ...data },
    });
    await this.mailer.send(em, r.userId, action, { resellerId: r.userId, status: r.status });
  }

  private async lock(em: EntityManager, resellerId: string): Promise<Reseller> {
    const r = await this.resellers.lock(em, resellerId);
    if (!r) throw ResellersErrors.resellerNotFound();
    return r;
  }

  private view(r: Reseller): ResellerView {
    const now = this.clock.now();
    return resellerView(r, standingOf(r, now, this.config.resellers), now);
  }
}

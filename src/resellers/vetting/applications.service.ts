import { Injectable, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../../audit/audit.service';
import { Clock } from '../../common/clock.service';
import { PgError, pgCode, pgConstraint } from '../../database/pg-errors';
import { TransactionRunner } from '../../database/transaction-runner';
import { FraudErrors } from '../../fraud/fraud.errors';
import { FraudService } from '../../fraud/fraud.service';
import { Review } from '../../fraud/reviews.repository';
import { ReviewsService } from '../../fraud/reviews.service';
import { RequestOrigin } from '../../orders/request-origin';
import { applicationMachine, OPEN_APPLICATION_STATUSES } from './application-state';
import { Application, ApplicationsRepository } from './applications.repository';
import { CheckReportService, reportDecision } from './check-report.service';
import { CreateApplicationDto } from '../dto/applications.dto';
import { applicationView, ApplicationView, MyApplicationView } from '../dto/views';
import { ResellerMailer, ResellerMailKind } from '../resellers.mails';
import { ResellersErrors } from '../resellers.errors';
import { ResellersRepository } from '../resellers.repository';

/**
 * Applying to resell (ECONOMY.md "Resellers"): eligibility first (a 403 NOT_ELIGIBLE names every
 * failed check), one application in progress per user, then the fraud engine decides
 * `reseller_application` in the transaction that stores it. BLOCK stores nothing; REVIEW stores the
 * application with a fraud review on it, which admins must close before approving (its reject
 * rejects the application; its approve changes nothing else).
 */
@Injectable()
export class ApplicationsService implements OnModuleInit {
  constructor(
    private readonly dataSource: DataSource,
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    private readonly applications: ApplicationsRepository,
    private readonly resellers: ResellersRepository,
    private readonly reports: CheckReportService,
    private readonly fraud: FraudService,
    private readonly reviews: ReviewsService,
    private readonly audit: AuditService,
    private readonly mailer: ResellerMailer,
  ) {}

  onModuleInit(): void {
    this.reviews.handle('reseller_application', {
      approve: async () => undefined,
      reject: (em, review, adminId) => this.rejectByFraudReview(em, review, adminId),
    });
  }

  async submit(userId: string, dto: CreateApplicationDto, origin: RequestOrigin): Promise<ApplicationView> {
    // Committed state first, each read on a connection of its own (never while holding one in a transaction).
    const checks = await this.reports.eligibility(userId);
    const failed = checks.filter((c) => !c.passed);
    if (failed.length) throw ResellersErrors.notEligible(failed);
    const reseller = await this.resellers.find(this.dataSource, userId);
    if (reseller && reseller.status !== 'revoked') throw ResellersErrors.alreadyReseller(reseller.status);
    if ((await this.applications.ofUser(this.dataSource, userId)).some(isOpen)) throw ResellersErrors.applicationOpen();
    const report = await this.reports.build(userId, checks);

    return this.tx.run(async (em) => {
      const id = randomUUID();
      const decision = await this.fraud.evaluate(em, { type: 'reseller_application', userId, subjectId: id, ...origin });
      if (decision.outcome === 'BLOCK') throw FraudErrors.blocked();
      const now = this.clock.now();
      const application = await this.applications
        .insert(em, {
          id,
          userId,
          businessName: dto.businessName,
          regions: dto.regions,
          paymentMethods: dto.paymentMethods,
          expectedMonthlyVolume: BigInt(dto.expectedMonthlyVolume),
          contact: dto.contact,
          checkReport: {
            ...report,
            applicationDecision: reportDecision({ ...decision, matchedRules: decision.rules.filter((r) => r.matched) }),
          },
          fraudDecisionId: decision.id,
          createdAt: now,
        })
        .catch((err: unknown) => {
          if (pgCode(err) === PgError.UNIQUE_VIOLATION && pgConstraint(err) === 'reseller_applications_one_open')
            throw ResellersErrors.applicationOpen();
          throw err;
        });
      await this.record(em, application, 'reseller.application_submitted', userId, null, { fraudOutcome: decision.outcome });
      return applicationView(application);
    });
  }

  /** The latest application (404 if none), the earlier ones, and the reseller status it led to. */
  async mine(userId: string): Promise<MyApplicationView> {
    const [latest, ...earlier] = (await this.applications.ofUser(this.dataSource, userId)).map(applicationView);
    if (!latest) throw ResellersErrors.applicationNotFound();
    const reseller = await this.resellers.find(this.dataSource, userId);
    return { ...latest, resellerStatus: reseller?.status ?? null, earlier };
  }

  async withdraw(userId: string, id: string): Promise<ApplicationView> {
    return this.tx.run(async (em) => {
      const a = await this.applications.lock(em, id);
      if (!a || a.userId !== userId) throw ResellersErrors.applicationNotFound();
      applicationMachine.next(a.status, 'withdraw');
      const withdrawn = await this.applications.decide(em, id, 'withdrawn', null, null, this.clock.now());
      await this.record(em, withdrawn, 'reseller.application_withdrawn', userId, null);
      return applicationView(withdrawn);
    });
  }

  /** The application's audit entry and the applicant's email, in the caller's transaction. */
  async record(
    em: EntityManager,
    a: Application,
    action: Extract<ResellerMailKind, `reseller.application_${string}`>,
    actorId: string | null,
    note: string | null,
    data: Record<string, unknown> = {},
  ): Promise<void> {
    await this.audit.record(em, {
      actorId,
      action,
      subjectType: 'reseller_application',
      subjectId: a.id,
      reason: note ?? undefined,
      data: { userId: a.userId, status: a.status, ...data },
    });
    await this.mailer.send(em, a.userId, action, { applicationId: a.id, status: a.status });
  }

  /** A rejected fraud review rejects the application, if it is still in progress (withdrawn or decided: nothing to do). */
  private async rejectByFraudReview(em: EntityManager, review: Review, adminId: string): Promise<void> {
    const a = await this.applications.lock(em, review.subjectId);
    if (!a || !isOpen(a)) return;
    if (a.userId === adminId) throw ResellersErrors.ownApplication();
    const note = `Rejected by fraud review ${review.id}`;
    const rejected = await this.applications.decide(
      em,
      a.id,
      applicationMachine.next(a.status, 'reject') as 'rejected',
      adminId,
      note,
      this.clock.now(),
    );
    await this.record(em, rejected, 'reseller.application_rejected', adminId, note, { fraudReviewId: review.id });
  }
}

const isOpen = (a: Application): boolean => OPEN_APPLICATION_STATUSES.includes(a.status);

import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../../audit/audit.service';
import { Clock } from '../../common/clock.service';
import { rethrowBadCursor } from '../../common/cursors';
import { decodeCursor, Page, pageLimit, PageQuery, toPage } from '../../common/pagination';
import { addDays } from '../../common/time';
import { AppConfig } from '../../config/app-config';
import { TransactionRunner } from '../../database/transaction-runner';
import { ReviewsService } from '../../fraud/reviews.service';
import { IdentityService } from '../../identity/identity.service';
import { applicationMachine, ApplicationStatus } from './application-state';
import { Application, ApplicationsRepository } from './applications.repository';
import { ApplicationsService } from './applications.service';
import { adminApplicationView, AdminApplicationView } from '../dto/views';
import { resellerMachine } from '../reseller-state';
import { ResellersErrors } from '../resellers.errors';
import { Reseller, ResellersRepository } from '../resellers.repository';

/**
 * Admins vet applications (four eyes): a first approval by one admin, the final one by a different
 * admin; nobody decides their own application; every decision carries a note, an audit entry and an
 * email. The final approval makes (or re-approves) the user's reseller row and grants the `reseller`
 * role, under the cap: at most RESELLER_CAP resellers not revoked, counted after an advisory lock so
 * concurrent final approvals take the seats one at a time.
 */
@Injectable()
export class VettingService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly applications: ApplicationsRepository,
    private readonly applicants: ApplicationsService,
    private readonly resellers: ResellersRepository,
    private readonly reviews: ReviewsService,
    private readonly identity: IdentityService,
    private readonly audit: AuditService,
  ) {}

  /** Oldest first (a queue). */
  async list(q: PageQuery & { status?: ApplicationStatus }): Promise<Page<AdminApplicationView>> {
    const limit = pageLimit(q);
    const key = decodeCursor(q.cursor, 2);
    const rows = await this.applications
      .list(this.dataSource, {
        status: q.status ?? null,
        after: key ? { createdAt: String(key[0]), id: String(key[1]) } : null,
        limit: limit + 1,
      })
      .catch(rethrowBadCursor);
    const page = toPage(
      rows,
      limit,
      (a) => a,
      (a) => [a.createdAt.toISOString(), a.id],
    );
    const items = [];
    for (const a of page.items) items.push(adminApplicationView(a, await this.reviews.forSubject('reseller_application', a.id), false));
    return { ...page, items };
  }

  async get(id: string): Promise<AdminApplicationView> {
    const a = await this.applications.find(this.dataSource, id);
    if (!a) throw ResellersErrors.applicationNotFound();
    return adminApplicationView(a, await this.reviews.forSubject('reseller_application', id), true);
  }

  async approve(adminId: string, id: string, note: string): Promise<AdminApplicationView> {
    return this.tx.run(async (em) => {
      const a = await this.lockDecidable(em, adminId, id);
      const review = await this.reviews.forSubject('reseller_application', id, em);
      if (review?.status === 'open') throw ResellersErrors.fraudReviewOpen(review.id);
      const now = this.clock.now();
      if (a.status === 'submitted') {
        applicationMachine.next(a.status, 'first_approve');
        const first = await this.applications.firstApprove(em, id, adminId, note, now);
        await this.applicants.record(em, first, 'reseller.application_first_approved', adminId, note);
        return adminApplicationView(first, review, true);
      }
      applicationMachine.next(a.status, 'second_approve');
      if (a.firstApprovedBy === adminId) throw ResellersErrors.sameAdmin();
      const reseller = await this.seat(em, a, adminId, now);
      const approved = await this.applications.decide(em, id, 'approved', adminId, note, now);
      await this.identity.addRole(em, a.userId, 'reseller');
      await this.applicants.record(em, approved, 'reseller.application_approved', adminId, note, {
        firstApprovedBy: a.firstApprovedBy,
        probationEndsAt: reseller.probationEndsAt.toISOString(),
        vettingDueAt: reseller.vettingDueAt.toISOString(),
      });
      return adminApplicationView(approved, review, true);
    });
  }

  async reject(adminId: string, id: string, note: string): Promise<AdminApplicationView> {
    return this.tx.run(async (em) => {
      const a = await this.lockDecidable(em, adminId, id);
      applicationMachine.next(a.status, 'reject');
      const rejected = await this.applications.decide(em, id, 'rejected', adminId, note, this.clock.now());
      await this.applicants.record(em, rejected, 'reseller.application_rejected', adminId, note);
      return adminApplicationView(rejected, await this.reviews.forSubject('reseller_application', id, em), true);
    });
  }

  private async lockDecidable(em: EntityManager, adminId: string, id: string): Promise<Application> {
    const a = await this.applications.lock(em, id);
    if (!a) throw ResellersErrors.applicationNotFound();
    if (a.userId === adminId) throw ResellersErrors.ownApplication();
    return a;
  }

  /** The reseller row of an approved application, under the cap (409 LIMIT_EXCEEDED when every seat is taken). */
  private async seat(em: EntityManager, a: Application, adminId: string, now: Date): Promise<Reseller> {
    await this.resellers.lockCap(em);
    const cap = this.config.resellers.cap;
    if ((await this.resellers.countSeated(em)) >= cap) throw ResellersErrors.capReached(cap);
    const approval = {
      userId: a.userId,
      applicationId: a.id,
      displayName: a.businessName,
      regions: a.regions,
      paymentMethods: a.paymentMethods,
      probationEndsAt: addDays(now, this.config.resellers.probationDays),
      vettingDueAt: addDays(now, this.config.resellers.revetDays),
      approvedBy: adminId,
      now,
    };
    const existing = await this.resellers.lock(em, a.userId);
    if (existing) resellerMachine.next(existing.status, 'reapprove');
    const reseller = existing ? await this.resellers.reapprove(em, approval) : await this.resellers.insert(em, approval);
    await this.audit.record(em, {
      actorId: adminId,
      action: existing ? 'reseller.reapproved' : 'reseller.approved',
      subjectType: 'reseller',
      subjectId: a.userId,
      reason: `application ${a.id}`,
      data: { applicationId: a.id, firstApprovedBy: a.firstApprovedBy },
    });
    return reseller;
  }
}

import { Injectable, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Gauge, register } from 'prom-client';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock.service';
import { rethrowBadCursor } from '../common/cursors';
import { decodeCursor, encodeCursor, Page, pageLimit, PageQuery } from '../common/pagination';
import { addHours } from '../common/time';
import { AppConfig } from '../config/app-config';
import { TransactionRunner } from '../database/transaction-runner';
import { JobsService } from '../jobs/jobs.service';
import { NewDecision } from './decisions.repository';
import { FraudErrors } from './fraud.errors';
import { FraudEventType } from './fraud.types';
import { ReviewAction, reviewMachine, ReviewStatus } from './review-state';
import { Review, ReviewsRepository } from './reviews.repository';

/**
 * How the module that owns an event finishes or undoes it once an admin decides its review, in the
 * admin's transaction: `approve` completes the action exactly as ALLOW would have; `reject` voids it.
 */
export interface ReviewHandler {
  approve(em: EntityManager, review: Review, adminId: string): Promise<void>;
  reject(em: EntityManager, review: Review, adminId: string): Promise<void>;
}

const escalatedGauge =
  (register.getSingleMetric('fraud_reviews_escalated') as Gauge<string> | undefined) ??
  new Gauge({ name: 'fraud_reviews_escalated', help: 'Open fraud reviews older than FRAUD_REVIEW_ESCALATE_HOURS' });

/** The review queue: cases opened by REVIEW decisions, decided once by an admin, escalated when left open. */
@Injectable()
export class ReviewsService implements OnModuleInit {
  private readonly handlers = new Map<FraudEventType, ReviewHandler>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly reviews: ReviewsRepository,
    private readonly audit: AuditService,
    private readonly jobs: JobsService,
  ) {}

  onModuleInit(): void {
    this.jobs.registerPeriodic({ name: 'fraud.escalate-reviews', cron: '*/10 * * * *', run: (now) => this.escalate(now) });
  }

  /** The owning module registers how its event type's reviews are finished (in its onModuleInit). */
  handle(eventType: FraudEventType, handler: ReviewHandler): void {
    if (this.handlers.has(eventType)) throw new Error(`a review handler for ${eventType} is registered already`);
    this.handlers.set(eventType, handler);
  }

  /** Opens a case for each REVIEW decision, in the evaluating transaction. */
  async open(em: EntityManager, decisions: NewDecision[]): Promise<void> {
    await this.reviews.insertMany(
      em,
      decisions.map((d) => ({
        id: randomUUID(),
        decisionId: d.id,
        eventType: d.eventType,
        userId: d.userId,
        subjectId: d.subjectId,
        createdAt: d.createdAt,
      })),
    );
  }

  /** The open (or decided) review of an event's subject, e.g. to show it beside an order. */
  forSubject(eventType: FraudEventType, subjectId: string, em?: EntityManager): Promise<Review | undefined> {
    return this.reviews.findBySubject(em ?? this.dataSource, eventType, subjectId);
  }

  async get(id: string): Promise<Review> {
    const review = await this.reviews.find(this.dataSource, id);
    if (!review) throw FraudErrors.reviewNotFound();
    return review;
  }

  /**
   * Decides a review once: the row is locked, the state machine refuses a second decision (409
   * INVALID_STATE), the owning module finishes or voids the action, and the audit log records the
   * admin and the note, all in one transaction.
   */
  async decide(reviewId: string, adminId: string, action: ReviewAction, note: string): Promise<Review> {
    return this.tx.run(async (em) => {
      const review = await this.reviews.lock(em, reviewId);
      if (!review) throw FraudErrors.reviewNotFound();
      const status = reviewMachine.next(review.status, action);
      const handler = this.handlers.get(review.eventType);
      if (!handler) throw FraudErrors.noReviewHandler(review.eventType);
      await handler[action](em, review, adminId);
      const now = this.clock.now();
      await this.reviews.close(em, review.id, status, adminId, note, now);
      await this.audit.record(em, {
        actorId: adminId,
        action: `fraud.review_${status}`,
        subjectType: 'fraud_review',
        subjectId: review.id,
        reason: note,
        data: { eventType: review.eventType, subjectId: review.subjectId, userId: review.userId, decisionId: review.decisionId },
      });
      return { ...review, status, decidedBy: adminId, decidedAt: now, note };
    });
  }

  /** Escalated first, then oldest first. */
  async list(q: PageQuery & { status?: ReviewStatus; eventType?: FraudEventType; userId?: string }): Promise<Page<Review>> {
    const limit = pageLimit(q);
    const key = decodeCursor(q.cursor, 3);
    const after = key ? { escalated: key[0] === 1, createdAt: String(key[1]), id: String(key[2]) } : null;
    const rows = await this.reviews
      .list(this.dataSource, {
        status: q.status ?? null,
        eventType: q.eventType ?? null,
        userId: q.userId ?? null,
        after,
        limit: limit + 1,
      })
      .catch(rethrowBadCursor);
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items,
      nextCursor: rows.length > limit && last ? encodeCursor([last.escalatedAt ? 1 : 0, last.createdAt.toISOString(), last.id]) : null,
    };
  }

  async escalate(now: Date = this.clock.now()): Promise<number> {
    const n = await this.reviews.escalate(this.dataSource, addHours(now, -this.config.fraud.escalateAfterHours), now);
    escalatedGauge.set(n);
    return n;
  }
}

import { BeforeApplicationShutdown, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Clock } from '../../common/clock.service';
import { businessEvent } from '../../common/business-events';
import { AppError } from '../../common/errors';
import { BusinessMetrics } from '../../common/metrics';
import { isUuid } from '../../common/ids';
import { AppConfig } from '../../config/app-config';
import { addHours } from '../../common/time';
import { BatchResult, GroupCommit, GroupCommitLimits } from '../../database/group-commit';
import { TransactionRunner } from '../../database/transaction-runner';
import { JOB_REMOVED, JobsService } from '../../jobs/jobs.service';
import { PurchaseSignalsService } from '../purchases/purchase-signals.service';
import type { PurchaseRecord } from '../purchases/purchase.record';
import { TokenPurchasesRepository } from '../purchases/token-purchases.repository';
import { ChargeDetails, StripeGateway } from '../stripe/stripe.gateway';
import { EventSignal, HANDLED_EVENT_TYPES, signalOf } from './event-signals';
import { FinishedEvent, NewStripeEvent, StripeEventsRepository, StripeEventStatus } from './stripe-events.repository';
import { sideBySide } from '../../database/side-by-side';

export const STRIPE_EVENT_QUEUE = 'payments.stripe-event';

const STALE_AFTER_HOURS = 1;

/** Receipts share a transaction (and its commit) when they arrive together. */
const RECEIPT_BATCHES: GroupCommitLimits = { max: 32, concurrency: 2, parallelMin: 8 };
/** So do applications of events: up to a queue's worth of runs in one. */
export const APPLY_BATCHES: GroupCommitLimits = { max: 16, concurrency: 4, parallelMin: 4 };

/** An event read, its purchase found and its card details fetched: what its application needs. */
interface ReadyEvent {
  eventId: string;
  /** The queued job this run is for, removed in the transaction that applies the event. */
  jobId: string | null;
  es: EventSignal;
  purchaseId: string;
  charge: ChargeDetails | null;
}

/**
 * Stripe webhooks. Receiving verifies the signature, records the event id once and queues its
 * processing in the same transaction (shared by the webhooks that arrive together), then
 * acknowledges: Stripe never has to retry because of our own slow or failing steps (the job is
 * retried instead), and a redelivered event changes nothing. The receiving process applies the event
 * as soon as that transaction commits, up to WEBHOOK_CONCURRENCY events at once, several to a
 * transaction; the queued job is the fallback when it cannot (JobsService.enqueuePromptly). Events of
 * one purchase go to different batches and serialize on its row lock, and the status machine ends in
 * the same place whatever order they are applied in.
 */
@Injectable()
export class StripeEventsService implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('StripeEvents');
  private readonly receipts: GroupCommit<NewStripeEvent, boolean>;
  private readonly applications: GroupCommit<ReadyEvent, boolean>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly tx: TransactionRunner,
    private readonly events: StripeEventsRepository,
    private readonly purchases: TokenPurchasesRepository,
    private readonly jobs: JobsService,
    private readonly gateway: StripeGateway,
    private readonly signals: PurchaseSignalsService,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {
    // Any error splits a batch until the event it belongs to stands alone: one event the database
    // refuses (a receipt, an application) fails alone and is retried alone.
    this.receipts = new GroupCommit(
      tx,
      () => RECEIPT_BATCHES,
      (em, events) => this.record(em, events),
      (e) => [e.id],
      () => true,
    );
    // Events of one purchase go to different batches, one after the other.
    this.applications = new GroupCommit(
      tx,
      () => APPLY_BATCHES,
      (em, ready) => this.applyAll(em, ready),
      (r) => [r.purchaseId],
      () => true,
    );
  }

  /** On shutdown, receipts and applications already under way commit before the connections close. */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([this.receipts.drained(), this.applications.drained()]);
  }

  onModuleInit(): void {
    this.jobs.registerQueue<{ eventId: string }>({
      name: STRIPE_EVENT_QUEUE,
      retryLimit: 10,
      concurrency: this.config.webhooks.concurrency,
      promptFallbackSeconds: this.config.webhooks.fallbackSeconds,
      expireInSeconds: this.config.webhooks.claimExpirySeconds,
      handle: (data, jobId) => this.process(data.eventId, jobId),
    });
    this.jobs.registerPeriodic({
      name: 'payments.requeue-stale-stripe-events',
      cron: '*/15 * * * *',
      run: (now) => this.requeueStale(now),
    });
  }

  /** Queues again what is still unprocessed after an hour (its job ran out of retries, e.g. Stripe was down). */
  async requeueStale(now: Date): Promise<number> {
    const ids = await this.events.queuedBefore(this.dataSource, addHours(now, -STALE_AFTER_HOURS));
    for (const eventId of ids) await this.jobs.enqueue(STRIPE_EVENT_QUEUE, { eventId });
    return ids.length;
  }

  async receive(rawBody: Buffer | undefined, signature: string | string[] | undefined): Promise<{ received: true; duplicate: boolean }> {
    const event = this.gateway.verifyEvent(rawBody, signature);
    const inserted = await this.receipts.submit({
      id: event.id,
      type: event.type,
      livemode: event.livemode,
      created: event.created,
      payload: rawBody!.toString('utf8'),
      status: HANDLED_EVENT_TYPES.has(event.type) ? 'queued' : 'ignored',
    });
    BusinessMetrics.webhookReceived.inc({ type: event.type, duplicate: String(!inserted) });
    return { received: true, duplicate: !inserted };
  }

  /** Records a batch of received events, and queues the processing of those recorded now, in one transaction. */
  private async record(em: EntityManager, events: NewStripeEvent[]): Promise<BatchResult<boolean>> {
    const recorded = await this.events.insertMany(em, events, this.clock.now());
    const queued = events.filter((e) => e.status === 'queued' && recorded.has(e.id));
    await this.jobs.enqueuePromptly(
      STRIPE_EVENT_QUEUE,
      queued.map((e) => ({ eventId: e.id })),
      em,
    );
    return { outcomes: events.map((e) => ({ ok: recorded.has(e.id) })) };
  }

  /**
   * Processes one recorded event, exactly once: the event row is locked and marked in the same
   * transaction as the purchase change. Calls to Stripe happen before that transaction; a failure
   * anywhere throws, and the job is retried. An event the state machine refuses is set aside as
   * `rejected` (for a person to look at) instead of being retried forever.
   */
  async process(eventId: string, jobId: string | null = null): Promise<void | typeof JOB_REMOVED> {
    const row = await this.events.find(this.dataSource, eventId);
    if (!row || row.status !== 'queued') return;
    let es: EventSignal | null;
    try {
      es = signalOf(row.payload as Parameters<typeof signalOf>[0]);
    } catch {
      // Signed by Stripe but not the shape its API version promises: retrying cannot help.
      await this.finish(eventId, 'rejected', null, 'malformed event object');
      return this.processed('rejected', row.payload);
    }
    let purchase: PurchaseRecord | undefined;
    try {
      purchase = es ? await this.findPurchase(es) : undefined;
      if (!es || !purchase) {
        await this.finish(eventId, 'ignored', null, es ? 'no matching token purchase' : 'nothing to act on');
        return this.processed('ignored', row.payload);
      }
      // Card details come from Stripe before the transaction that applies the event, and only when the purchase lacks them.
      const charge = es.charge ?? (es.chargeId && !purchase.cardFingerprint ? await this.gateway.retrieveCharge(es.chargeId) : null);
      if (await this.applications.submit({ eventId, jobId, es, purchaseId: purchase.id, charge })) this.processed('processed', row.payload);
      return jobId ? JOB_REMOVED : undefined;
    } catch (err) {
      if (err instanceof AppError && err.code === 'INVALID_STATE') {
        this.logger.warn({ eventId, detail: err.detail }, 'Stripe event rejected by the purchase state machine');
        await this.finish(eventId, 'rejected', purchase?.id ?? null, err.detail ?? err.message);
        return this.processed('rejected', row.payload);
      }
      await this.events.recordFailure(this.dataSource, eventId, String(err?.message ?? err));
      BusinessMetrics.webhookProcessed.inc({ status: 'failed' });
      throw err;
    }
  }

  /**
   * Applies a batch of events (of different purchases) in one transaction: the events' rows locked
   * (still queued?), then their purchases' rows, the events applied together
   * (`PurchaseSignalsService.applyMany`), every event marked and every fallback job removed by one
   * statement each. False for an event another run applied first.
   */
  private async applyAll(em: EntityManager, ready: ReadyEvent[]): Promise<BatchResult<boolean>> {
    const queued = await this.events.lockQueued(
      em,
      ready.map((r) => r.eventId),
    );
    const locked = await this.purchases.lockMany(em, [...new Set(ready.filter((r) => queued.has(r.eventId)).map((r) => r.purchaseId))]);
    const applicable = ready.flatMap((r) => {
      const p = queued.has(r.eventId) ? locked.get(r.purchaseId) : undefined;
      return p ? [{ r, p }] : [];
    });
    const updated = await this.signals.applyMany(
      em,
      applicable.map(({ r, p }) => ({
        p,
        signal: r.es.signal,
        ctx: { paymentIntentId: r.es.paymentIntentId, amount: r.es.amount, charge: r.charge },
      })),
    );
    const done = applicable.map(({ r, p }, i): FinishedEvent => {
      if (updated[i].status !== p.status) this.report(em, r.eventId, p, updated[i].status);
      return { id: r.eventId, status: 'processed', purchaseId: p.id, note: null };
    });
    await sideBySide([
      this.events.finish(em, done, this.clock.now()),
      this.jobs.removeJobs(
        STRIPE_EVENT_QUEUE,
        ready.flatMap((r) => (r.jobId ? [r.jobId] : [])),
        em,
      ),
    ]);
    const applied = new Set(done.map((d) => d.id));
    return { outcomes: ready.map((r) => ({ ok: applied.has(r.eventId) })) };
  }

  /** Logs and counts a purchase's new status, once the transaction that changed it commits. */
  private report(em: EntityManager, eventId: string, p: PurchaseRecord, outcome: PurchaseRecord['status']): void {
    businessEvent(
      em,
      `purchase.${outcome === 'succeeded' ? 'settled' : outcome}`,
      {
        purchaseId: p.id,
        userId: p.userId,
        status: outcome,
        from: p.status,
        priceCents: p.priceCents.toString(),
        stripeEventId: eventId,
      },
      () => BusinessMetrics.tokenPurchases.inc({ outcome }),
    );
  }

  /** Counts an event processed, with its lag since Stripe created it. */
  private processed(status: StripeEventStatus, payload: unknown): void {
    BusinessMetrics.webhookProcessed.inc({ status });
    const created = (payload as { created?: unknown } | null)?.created;
    if (typeof created === 'number') BusinessMetrics.webhookLag.observe(Math.max(0, this.clock.nowMs() / 1000 - created));
  }

  private async findPurchase(es: EventSignal): Promise<PurchaseRecord | undefined> {
    if (isUuid(es.purchaseId)) {
      const p = await this.purchases.find(this.dataSource, es.purchaseId);
      // Metadata is ours, but only trusted when it agrees with the purchase it names.
      if (p && (!es.userId || es.userId === p.userId)) return p;
    }
    return es.paymentIntentId ? this.purchases.findByPaymentIntent(this.dataSource, es.paymentIntentId) : undefined;
  }

  private finish(eventId: string, status: StripeEventStatus, purchaseId: string | null, note: string | null): Promise<void> {
    return this.events.finish(this.dataSource, [{ id: eventId, status, purchaseId, note }], this.clock.now());
  }
}

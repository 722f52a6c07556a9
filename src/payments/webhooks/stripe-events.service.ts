import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Clock } from '../../common/clock.service';
import { businessEvent } from '../../common/business-events';
import { AppError } from '../../common/errors';
import { BusinessMetrics } from '../../common/metrics';
import { isUuid } from '../../common/ids';
import { AppConfig } from '../../config/app-config';
import { addHours } from '../../common/time';
import { TransactionRunner } from '../../database/transaction-runner';
import { JobsService } from '../../jobs/jobs.service';
import { PurchaseSignalsService } from '../purchases/purchase-signals.service';
import type { PurchaseRecord } from '../purchases/purchase.record';
import { TokenPurchasesRepository } from '../purchases/token-purchases.repository';
import { StripeGateway } from '../stripe/stripe.gateway';
import { EventSignal, HANDLED_EVENT_TYPES, signalOf } from './event-signals';
import { StripeEventsRepository, StripeEventStatus } from './stripe-events.repository';

export const STRIPE_EVENT_QUEUE = 'payments.stripe-event';

const STALE_AFTER_HOURS = 1;

/**
 * Stripe webhooks. Receiving verifies the signature, records the event id once and queues its
 * processing in the same transaction, then acknowledges: Stripe never has to retry because of our
 * own slow or failing steps (the job is retried instead), and a redelivered event changes nothing.
 * The receiving process applies the event as soon as that transaction commits, up to
 * WEBHOOK_CONCURRENCY events at once; the queued job is the fallback when it cannot
 * (JobsService.enqueuePromptly). Events of one purchase serialize on its row lock, and the status
 * machine ends in the same place whatever order they are applied in.
 */
@Injectable()
export class StripeEventsService implements OnModuleInit {
  private readonly logger = new Logger('StripeEvents');

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
  ) {}

  onModuleInit(): void {
    this.jobs.registerQueue<{ eventId: string }>({
      name: STRIPE_EVENT_QUEUE,
      retryLimit: 10,
      concurrency: this.config.webhooks.concurrency,
      promptFallbackSeconds: this.config.webhooks.fallbackSeconds,
      handle: (data) => this.process(data.eventId),
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
    const handled = HANDLED_EVENT_TYPES.has(event.type);
    const inserted = await this.tx.run(async (em) => {
      const recorded = await this.events.insert(
        em,
        {
          id: event.id,
          type: event.type,
          livemode: event.livemode,
          created: event.created,
          payload: rawBody!.toString('utf8'),
          status: handled ? 'queued' : 'ignored',
        },
        this.clock.now(),
      );
      if (recorded && handled) await this.jobs.enqueuePromptly(STRIPE_EVENT_QUEUE, { eventId: event.id }, em);
      return recorded;
    });
    BusinessMetrics.webhookReceived.inc({ type: event.type, duplicate: String(!inserted) });
    return { received: true, duplicate: !inserted };
  }

  /**
   * Processes one recorded event, exactly once: the event row is locked and marked in the same
   * transaction as the purchase change. Calls to Stripe happen before that transaction; a failure
   * anywhere throws, and the job is retried. An event the state machine refuses is set aside as
   * `rejected` (for a person to look at) instead of being retried forever.
   */
  async process(eventId: string): Promise<void> {
    const row = await this.events.find(this.dataSource, eventId);
    if (!row || row.status !== 'queued') return;
    let es: EventSignal | null;
    try {
      es = signalOf(row.payload as Parameters<typeof signalOf>[0]);
    } catch {
      // Signed by Stripe but not the shape its API version promises: retrying cannot help.
      await this.finish(this.dataSource, eventId, 'rejected', null, 'malformed event object');
      return this.processed('rejected', row.payload);
    }
    let purchase: PurchaseRecord | undefined;
    try {
      purchase = es ? await this.findPurchase(es) : undefined;
      if (!es || !purchase) {
        await this.finish(this.dataSource, eventId, 'ignored', null, es ? 'no matching token purchase' : 'nothing to act on');
        return this.processed('ignored', row.payload);
      }
      if (await this.applyToPurchase(eventId, es, purchase)) this.processed('processed', row.payload);
    } catch (err) {
      if (err instanceof AppError && err.code === 'INVALID_STATE') {
        this.logger.warn({ eventId, detail: err.detail }, 'Stripe event rejected by the purchase state machine');
        await this.finish(this.dataSource, eventId, 'rejected', purchase?.id ?? null, err.detail ?? err.message);
        return this.processed('rejected', row.payload);
      }
      await this.events.recordFailure(this.dataSource, eventId, String(err?.message ?? err));
      BusinessMetrics.webhookProcessed.inc({ status: 'failed' });
      throw err;
    }
  }

  /** Card details are fetched from Stripe first, outside the transaction that applies the event. False: another run applied it. */
  private async applyToPurchase(eventId: string, es: EventSignal, purchase: PurchaseRecord): Promise<boolean> {
    const charge = es.charge ?? (es.chargeId && !purchase.cardFingerprint ? await this.gateway.retrieveCharge(es.chargeId) : null);
    return this.tx.run(async (em) => {
      if ((await this.events.lockStatus(em, eventId)) !== 'queued') return false;
      const p = (await this.purchases.lock(em, purchase.id))!;
      const updated = await this.signals.apply(em, p, es.signal, { paymentIntentId: es.paymentIntentId, amount: es.amount, charge });
      await this.finish(em, eventId, 'processed', p.id, null);
      if (updated.status !== p.status) {
        const outcome = updated.status;
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
      return true;
    });
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

  private finish(
    db: EntityManager | DataSource,
    eventId: string,
    status: StripeEventStatus,
    purchaseId: string | null,
    note: string | null,
  ): Promise<void> {
    return this.events.finish(db, eventId, { status, purchaseId, note }, this.clock.now());
  }
}

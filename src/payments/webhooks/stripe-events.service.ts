import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Clock } from '../../common/clock.service';
import { AppError } from '../../common/errors';
import { queryRows } from '../../database/sql';
import { TransactionRunner } from '../../database/transaction-runner';
import { JobsService } from '../../jobs/jobs.service';
import { PurchaseSignals } from '../purchases/purchase-signals.service';
import { findPurchaseByPaymentIntent, loadPurchase, PurchaseRecord } from '../purchases/purchase.record';
import { StripeGateway } from '../stripe/stripe.gateway';
import { EventSignal, HANDLED_EVENT_TYPES, signalOf } from './event-signals';

export const STRIPE_EVENT_QUEUE = 'payments.stripe-event';

const STALE_AFTER_MS = 3600_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type EventStatus = 'queued' | 'processed' | 'ignored' | 'rejected';

/**
 * Stripe webhooks. Receiving verifies the signature, records the event id once and queues its
 * processing in the same transaction, then acknowledges: Stripe never has to retry because of our
 * own slow or failing steps (the job is retried instead), and a redelivered event changes nothing.
 */
@Injectable()
export class StripeEventsService implements OnModuleInit {
  private readonly logger = new Logger('StripeEvents');

  constructor(
    private readonly dataSource: DataSource,
    private readonly tx: TransactionRunner,
    private readonly jobs: JobsService,
    private readonly gateway: StripeGateway,
    private readonly signals: PurchaseSignals,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    this.jobs.registerQueue<{ eventId: string }>({
      name: STRIPE_EVENT_QUEUE,
      retryLimit: 10,
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
    const rows = await queryRows<{ id: string }>(
      this.dataSource,
      `SELECT id FROM stripe_events WHERE status = 'queued' AND received_at < $1 ORDER BY received_at LIMIT 500`,
      [new Date(now.getTime() - STALE_AFTER_MS)],
    );
    for (const r of rows) await this.jobs.enqueue(STRIPE_EVENT_QUEUE, { eventId: r.id });
    return rows.length;
  }

  async receive(rawBody: Buffer | undefined, signature: string | string[] | undefined): Promise<{ received: true; duplicate: boolean }> {
    const event = this.gateway.verifyEvent(rawBody, signature);
    const handled = HANDLED_EVENT_TYPES.has(event.type);
    const inserted = await this.tx.run(async (em) => {
      const rows = await queryRows(
        em,
        `INSERT INTO stripe_events (id, type, livemode, stripe_created_at, payload, received_at, status)
         VALUES ($1, $2, $3, to_timestamp($4), $5::jsonb, $6, $7)
         ON CONFLICT (id) DO NOTHING RETURNING id`,
        [event.id, event.type, event.livemode, event.created, rawBody!.toString('utf8'), this.clock.now(), handled ? 'queued' : 'ignored'],
      );
      if (rows.length > 0 && handled) await this.jobs.enqueue(STRIPE_EVENT_QUEUE, { eventId: event.id }, em);
      return rows.length > 0;
    });
    return { received: true, duplicate: !inserted };
  }

  /**
   * Processes one recorded event, exactly once: the event row is locked and marked in the same
   * transaction as the purchase change. Calls to Stripe happen before that transaction; a failure
   * anywhere throws, and the job is retried. An event the state machine refuses is set aside as
   * `rejected` (for a person to look at) instead of being retried forever.
   */
  async process(eventId: string): Promise<void> {
    const [row] = await queryRows<{ status: EventStatus; payload: unknown }>(
      this.dataSource,
      'SELECT status, payload FROM stripe_events WHERE id = $1',
      [eventId],
    );
    if (!row || row.status !== 'queued') return;
    let es: EventSignal | null;
    try {
      es = signalOf(row.payload as Parameters<typeof signalOf>[0]);
    } catch {
      // Signed by Stripe but not the shape its API version promises: retrying cannot help.
      await this.finish(this.dataSource.manager, eventId, 'rejected', null, 'malformed event object');
      return;
    }
    let purchase: PurchaseRecord | undefined;
    try {
      purchase = es ? await this.findPurchase(es) : undefined;
      if (!es || !purchase) {
        await this.finish(this.dataSource.manager, eventId, 'ignored', null, es ? 'no matching token purchase' : 'nothing to act on');
        return;
      }
      await this.applyToPurchase(eventId, es, purchase);
    } catch (err) {
      if (err instanceof AppError && err.code === 'INVALID_STATE') {
        this.logger.warn({ eventId, detail: err.detail }, 'Stripe event rejected by the purchase state machine');
        await this.finish(this.dataSource.manager, eventId, 'rejected', purchase?.id ?? null, err.detail ?? err.message);
        return;
      }
      await this.dataSource.query('UPDATE stripe_events SET attempts = attempts + 1, last_error = $2 WHERE id = $1', [
        eventId,
        String(err?.message ?? err),
      ]);
      throw err;
    }
  }

  /** Card details are fetched from Stripe first, outside the transaction that applies the event. */
  private async applyToPurchase(eventId: string, es: EventSignal, purchase: PurchaseRecord): Promise<void> {
    const charge = es.charge ?? (es.chargeId && !purchase.cardFingerprint ? await this.gateway.retrieveCharge(es.chargeId) : null);
    await this.tx.run(async (em) => {
      const [locked] = await queryRows<{ status: EventStatus }>(em, 'SELECT status FROM stripe_events WHERE id = $1 FOR UPDATE', [eventId]);
      if (locked.status !== 'queued') return;
      const p = (await loadPurchase(em, purchase.id, true))!;
      await this.signals.apply(em, p, es.signal, { paymentIntentId: es.paymentIntentId, amount: es.amount, charge });
      await this.finish(em, eventId, 'processed', p.id, null);
    });
  }

  private async findPurchase(es: EventSignal): Promise<PurchaseRecord | undefined> {
    if (es.purchaseId && UUID.test(es.purchaseId)) {
      const p = await loadPurchase(this.dataSource, es.purchaseId);
      // Metadata is ours, but only trusted when it agrees with the purchase it names.
      if (p && (!es.userId || es.userId === p.userId)) return p;
    }
    return es.paymentIntentId ? findPurchaseByPaymentIntent(this.dataSource, es.paymentIntentId) : undefined;
  }

  private async finish(
    db: EntityManager,
    eventId: string,
    status: EventStatus,
    purchaseId: string | null,
    note: string | null,
  ): Promise<void> {
    await db.query(
      `UPDATE stripe_events SET status = $2, purchase_id = COALESCE($3, purchase_id), processed_at = $4, attempts = attempts + 1,
         last_error = COALESCE($5, last_error) WHERE id = $1 AND status = 'queued'`,
      [eventId, status, purchaseId, this.clock.now(), note],
    );
  }
}

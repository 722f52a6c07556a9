import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { AccountGuardService } from '../../account-guard/account-guard.service';
import { SpendingPolicy } from '../../account-guard/spending.policy';
import { Clock } from '../../common/clock.service';
import { sortedBy } from '../../common/compare';
import { rethrowBadCursor } from '../../common/cursors';
import { IdempotencyService, IdempotentReplay, IdempotentRequest } from '../../common/idempotency/idempotency.service';
import { decodeCursor, Page, pageLimit, toPage } from '../../common/pagination';
import { addHours } from '../../common/time';
import { Outcome } from '../../common/outcome';
import { AppConfig } from '../../config/app-config';
import { BatchResult, GroupCommit, GroupCommitLimits } from '../../database/group-commit';
import { TransactionRunner } from '../../database/transaction-runner';
import { FraudErrors } from '../../fraud/fraud.errors';
import { FraudService } from '../../fraud/fraud.service';
import { ReviewsService } from '../../fraud/reviews.service';
import { LedgerService } from '../../ledger/ledger.service';
import { RequestOrigin } from '../../orders/request-origin';
import {
  CancelResellerOrderDto,
  CreateResellerOrderDto,
  MarkPaidDto,
  ResellerOrderDetailView,
  ResellerOrdersQuery,
  ResellerOrderView,
} from '../dto/reseller-orders.dto';
import { assertParty, partyOf } from './order-parties.policy';
import { deliveryEntry, escrowEntry, returnEntry } from './reseller-order-entries';
import { ResellerOrderLimitsPolicy } from './reseller-order-limits.policy';
import { OrderActor, ResellerOrderSteps, toEventView, toOrderView } from './reseller-order-steps.service';
import { ResellerOrder, ResellerOrdersRepository } from './reseller-orders.repository';
import { Reseller, ResellersRepository } from '../resellers.repository';
import { ResellersErrors } from '../resellers.errors';

/**
 * Escrowed reseller orders (docs/resellers.md "Orders"): opening, marking paid, confirming and
 * cancelling. Every transition locks the order's row first, so concurrent requests on one order are
 * decided once (the others get 409 INVALID_STATE). Disputes and their resolution are in
 * OrderDisputesService, the scheduled expiry and auto-dispute in ResellerOrderJobs.
 */
@Injectable()
export class ResellerOrdersService implements BeforeApplicationShutdown {
  private readonly batches: GroupCommit<OpeningInput, ResellerOrderView | IdempotentReplay>;

  constructor(
    private readonly tx: TransactionRunner,
    private readonly idempotency: IdempotencyService,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly ledger: LedgerService,
    private readonly guard: AccountGuardService,
    private readonly spending: SpendingPolicy,
    private readonly fraud: FraudService,
    private readonly reviews: ReviewsService,
    private readonly limits: ResellerOrderLimitsPolicy,
    private readonly steps: ResellerOrderSteps,
    private readonly orders: ResellerOrdersRepository,
    private readonly resellers: ResellersRepository,
  ) {
    // One buyer's openings go to different batches, one after the other; one reseller's share a batch.
    this.batches = new GroupCommit(
      tx,
      () => RESELLER_ORDER_BATCHES,
      (em, inputs) => this.openMany(em, inputs),
      (o) => [o.buyerId],
    );
  }

  /** On shutdown, openings already queued or in a batch are decided before the connections close. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.batches.drained();
  }

  /**
   * POST /reseller-orders: checks in API.md's order (account state, the reseller's limits, fraud
   * `reseller_order_open`, then the reseller's stock), and moves the credits into escrow at once. A
   * reviewed opening is `open_review` (its credits in escrow, not payable until approved). Concurrent
   * openings are group-committed (openMany); a buyer's next opening waits for a later batch.
   */
  async open(
    buyerId: string,
    dto: CreateResellerOrderDto,
    request: IdempotentRequest,
    origin: RequestOrigin,
  ): Promise<ResellerOrderView | IdempotentReplay> {
    if (dto.resellerId === buyerId) throw ResellersErrors.orderToSelf();
    const amount = BigInt(dto.amount);
    await this.spending.assertMayBuyCredits(buyerId);
    return this.batches.submit({ buyerId, resellerId: dto.resellerId, amount, request, origin });
  }

  /**
   * Decides a batch of openings (no buyer twice), each on its own and in the single opening's order:
   * the idempotency keys, whether the buyer is a reseller, the buyers then the resellers locked (each
   * once, in id order), the reseller's limits counting the batch's orders before this one, the fraud
   * rules (one evaluation), then the stock (the escrow entries posted in one go, each spending what
   * those before it left). The orders, their events and the keys of the opened ones are recorded in
   * the same transaction.
   */
  private async openMany(em: EntityManager, inputs: OpeningInput[]): Promise<BatchResult<ResellerOrderView | IdempotentReplay>> {
    const requests = inputs.map((o) => o.request);
    const { outcomes, open: claimed } = await this.idempotency.claimBatch<ResellerOrderView>(em, requests);
    for (const i of claimed) {
      const own = await this.resellers.find(em, inputs[i].buyerId);
      if (own && own.status !== 'revoked') outcomes[i] = { error: ResellersErrors.buyerIsReseller() };
    }
    const open = claimed.filter((i) => !outcomes[i]);
    if (!open.length) return { outcomes };
    const now = this.clock.now();
    for (const buyerId of sortedIds(open.map((i) => inputs[i].buyerId))) await this.orders.lockBuyer(em, buyerId);
    const resellers = new Map<string, Reseller>();
    for (const id of sortedIds(open.map((i) => inputs[i].resellerId))) {
      const reseller = await this.resellers.lock(em, id);
      if (reseller) resellers.set(id, reseller);
    }
    for (const i of open) if (!resellers.has(inputs[i].resellerId)) outcomes[i] = { error: ResellersErrors.resellerNotFound() };
    const found = open.filter((i) => !outcomes[i]);
    const refusals = await this.limits.refusals(
      em,
      found.map((i) => ({ ...inputs[i], reseller: resellers.get(inputs[i].resellerId)! })),
      now,
    );
    found.forEach((i, k) => {
      const refused = refusals[k];
      if (refused) outcomes[i] = { error: refused };
    });
    const limited = found.filter((i) => !outcomes[i]);
    const opened = await this.escrow(
      em,
      limited.map((index) => ({ index, id: randomUUID(), ...inputs[index] })),
      outcomes,
      now,
    );
    this.assertLimitsExact(inputs, open, limited, outcomes);
    await this.idempotency.complete(em, opened);
    return { outcomes };
  }

  /**
   * The fraud rules on the openings within the limits, then their escrow entries: a blocked or unfunded
   * opening is refused (one the rules reviewed fails the batch, so that it is decided alone and its
   * review taken back with it); the others' orders, events and emails written. Answers the opened
   * ones' requests and responses.
   */
  private async escrow(
    em: EntityManager,
    openings: (OpeningInput & { index: number; id: string })[],
    outcomes: Outcome<ResellerOrderView | IdempotentReplay>[],
    now: Date,
  ): Promise<{ request: IdempotentRequest; body: ResellerOrderView }[]> {
    const screened = await this.fraud.screenBatch(
      em,
      openings,
      (o) => ({
        type: 'reseller_order_open',
        userId: o.buyerId,
        subjectId: o.id,
        amount: o.amount,
        recipientId: o.resellerId,
        ip: o.origin.ip,
        sessionId: o.origin.sessionId,
      }),
      outcomes,
    );
    const orders = screened.map(({ unit, review }) => ({
      ...blankOrder(unit.id, unit.resellerId, unit.buyerId, unit.amount, now),
      status: review ? ('open_review' as const) : ('open' as const),
      expiresAt: addHours(now, this.config.resellers.unpaidExpiryHours),
    }));
    const posted = await this.ledger.postMany(em, orders.map(escrowEntry));
    const opened: { request: IdempotentRequest; body: ResellerOrderView }[] = [];
    const touched = new Set<string>();
    for (const [k, { unit, review }] of screened.entries()) {
      const o = posted[k];
      if ('error' in o) {
        if (review) throw o.error;
        outcomes[unit.index] = { error: o.error };
        continue;
      }
      const order = await this.orders.insert(em, orders[k]);
      await this.steps.opened(em, order, { id: unit.buyerId, role: 'buyer' }, { fraudOutcome: review ? 'REVIEW' : 'ALLOW' });
      const view = toOrderView(order);
      outcomes[unit.index] = { ok: view };
      opened.push({ request: unit.request, body: view });
      touched.add(unit.resellerId);
    }
    for (const id of touched) await this.resellers.touchLastOrder(em, id, now);
    return opened;
  }

  /**
   * The limits counted every opening within them before the next one of the same reseller; one the
   * fraud rules or the stock refused afterwards should not have counted. Should a later opening of that
   * reseller have been refused for its 24-hour total, the batch fails and is split until each is
   * decided as if it had come alone.
   */
  private assertLimitsExact(
    inputs: OpeningInput[],
    open: number[],
    limited: number[],
    outcomes: Outcome<ResellerOrderView | IdempotentReplay>[],
  ): void {
    const dropped = limited.filter((i) => 'error' in outcomes[i]);
    for (const i of open) {
      const o = outcomes[i];
      if ('ok' in o || o.error.extra.limit !== 'daily') continue;
      if (dropped.some((d) => d < i && inputs[d].resellerId === inputs[i].resellerId)) throw o.error;
    }
  }

  /** The buyer says they paid the reseller off-platform; the reseller then has RESELLER_CONFIRM_DUE_HOURS to confirm. */
  async markPaid(buyerId: string, orderId: string, dto: MarkPaidDto): Promise<ResellerOrderView> {
    return this.tx.run(async (em) => {
      const order = await this.steps.lock(em, orderId);
      const actor = assertParty(order, buyerId, 'buyer', 'mark paid');
      const status = this.steps.next(order, 'mark_paid');
      const now = this.clock.now();
      if (now >= order.expiresAt) throw ResellersErrors.orderExpired();
      const paid = await this.steps.step(
        em,
        order,
        {
          ...order,
          status,
          paymentReference: dto.paymentReference,
          paidAt: now,
          confirmDueAt: addHours(now, this.config.resellers.confirmDueHours),
        },
        actor,
        null,
        { paymentReference: dto.paymentReference },
      );
      return toOrderView(paid);
    });
  }

  /**
   * The reseller confirms it was paid: the credits go from escrow to the buyer's wallet. Needs a recent
   * re-authentication (the route), an account value may leave (no hold, freeze or cooling period),
   * then fraud `reseller_order_confirm`: reviewed, the order waits in `confirm_review` with the
   * credits still in escrow. After a confirmation was refused in review, only an admin decides the order.
   */
  async confirm(
    resellerId: string,
    orderId: string,
    request: IdempotentRequest,
    origin: RequestOrigin,
  ): Promise<ResellerOrderView | IdempotentReplay> {
    const seen = await this.orders.find(this.tx.manager, orderId);
    if (!seen) throw ResellersErrors.orderNotFound();
    assertParty(seen, resellerId, 'reseller', 'confirm');
    await this.guard.assertMayMoveValue(resellerId, 'reseller_confirm');
    return this.idempotency.run(request, async (em) => {
      const order = await this.steps.lock(em, orderId);
      const actor = assertParty(order, resellerId, 'reseller', 'confirm');
      this.steps.next(order, 'confirm');
      if (await this.reviews.forSubject('reseller_order_confirm', order.id, em)) {
        throw ResellersErrors.notConfirmable();
      }
      const { outcome } = await this.fraud.evaluate(em, {
        type: 'reseller_order_confirm',
        userId: resellerId,
        subjectId: order.id,
        amount: order.amount,
        recipientId: order.buyerId,
        ip: origin.ip,
        sessionId: origin.sessionId,
      });
      if (outcome === 'BLOCK') throw FraudErrors.blocked();
      if (outcome === 'REVIEW') {
        const held = await this.steps.step(em, order, { ...order, status: this.steps.next(order, 'hold_confirm') }, actor, null, {
          fraudOutcome: outcome,
        });
        return toOrderView(held);
      }
      return toOrderView(await this.deliver(em, order, 'confirm', actor));
    });
  }

  /** Confirmed (by the reseller, or by an admin approving a reviewed confirmation): escrow → the buyer's wallet. */
  async deliver(em: EntityManager, order: ResellerOrder, action: 'confirm' | 'approve_confirm', actor: OrderActor): Promise<ResellerOrder> {
    const status = this.steps.next(order, action);
    const now = this.clock.now();
    await this.ledger.post(em, deliveryEntry(order, 'confirmed'));
    return this.steps.step(em, order, { ...order, status, confirmedAt: now, closedAt: now }, actor);
  }

  /**
   * Orders oldest first, filtered by status and reseller (GET /admin/reseller-orders, e.g.
   * `?status=disputed`), or the caller's own as buyer or reseller (GET /reseller-orders).
   */
  async list(q: ResellerOrdersQuery, party: { buyerId?: string; resellerId?: string } = {}): Promise<Page<ResellerOrderView>> {
    const limit = pageLimit(q);
    const key = decodeCursor(q.cursor, 2);
    const rows = await this.orders
      .list(this.tx.manager, {
        status: q.status ?? null,
        resellerId: party.resellerId ?? q.resellerId ?? null,
        buyerId: party.buyerId ?? null,
        after: key ? [String(key[0]), String(key[1])] : null,
        limit: limit + 1,
      })
      .catch(rethrowBadCursor);
    return toPage(rows, limit, toOrderView, (r) => [r.openedAt.toISOString(), r.id]);
  }

  /** The buyer before paying, or the reseller (with a reason) before the buyer paid: the credits go back to stock. */
  async cancel(
    userId: string,
    orderId: string,
    dto: CancelResellerOrderDto,
    request: IdempotentRequest,
  ): Promise<ResellerOrderView | IdempotentReplay> {
    return this.idempotency.run(request, async (em) => {
      const order = await this.steps.lock(em, orderId);
      const role = partyOf(order, userId);
      if (role === 'reseller' && !dto.reason) throw ResellersErrors.cancelReasonRequired();
      const status = this.steps.next(order, 'cancel');
      await this.ledger.post(em, returnEntry(order, 'cancelled'));
      const cancelled = await this.steps.step(
        em,
        order,
        { ...order, status, cancelReason: dto.reason ?? null, cancelledBy: userId, cancelledByRole: role, closedAt: this.clock.now() },
        { id: userId, role },
        dto.reason ?? null,
      );
      return toOrderView(cancelled);
    });
  }

  /** GET /reseller-orders/:id: for its buyer, its reseller, or an admin. */
  async get(userId: string, isAdmin: boolean, orderId: string): Promise<ResellerOrderDetailView> {
    const db = this.tx.manager;
    const order = await this.orders.find(db, orderId);
    if (!order) throw ResellersErrors.orderNotFound();
    if (!isAdmin) partyOf(order, userId);
    const history = await this.orders.events(db, orderId);
    return { ...toOrderView(order), history: history.map(toEventView) };
  }
}

/** An opening as the route hands it to the batcher. */
interface OpeningInput {
  buyerId: string;
  resellerId: string;
  amount: bigint;
  request: IdempotentRequest;
  origin: RequestOrigin;
}

/** Reseller order openings decided together: up to a batch of concurrent ones share a transaction and its commit. */
export const RESELLER_ORDER_BATCHES: GroupCommitLimits = { max: 64, concurrency: 3, parallelMin: 8, genericPlans: true };

const sortedIds = (ids: string[]): string[] => sortedBy([...new Set(ids)], (id) => id);

/** A new order's row before its status and expiry are set. */
function blankOrder(id: string, resellerId: string, buyerId: string, amount: bigint, now: Date): ResellerOrder {
  return {
    id,
    resellerId,
    buyerId,
    amount,
    status: 'open',
    paymentReference: null,
    cancelReason: null,
    cancelledBy: null,
    cancelledByRole: null,
    disputeReason: null,
    disputeOpenedBy: null,
    disputeOpenedByRole: null,
    resolutionNote: null,
    resolvedBy: null,
    bondPaid: 0n,
    debtAdded: 0n,
    openedAt: now,
    paidAt: null,
    confirmedAt: null,
    disputedAt: null,
    closedAt: null,
    expiresAt: now,
    confirmDueAt: null,
    createdAt: now,
    updatedAt: now,
  };
}

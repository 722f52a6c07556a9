import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { CatalogService, ListingForSale } from '../catalog/catalog.service';
import { SpendingPolicy } from '../account-guard/spending.policy';
import { Clock } from '../common/clock.service';
import { businessEvent } from '../common/business-events';
import { sortedBy } from '../common/compare';
import { AppError } from '../common/errors';
import { IdempotencyService, IdempotentReplay, IdempotentRequest } from '../common/idempotency/idempotency.service';
import { BusinessMetrics } from '../common/metrics';
import { Outcome } from '../common/outcome';
import { addDays } from '../common/time';
import { AppConfig } from '../config/app-config';
import { afterCommit } from '../database/after-commit';
import { BatchResult, GroupCommit, GroupCommitLimits } from '../database/group-commit';
import { TransactionRunner } from '../database/transaction-runner';
import { FraudService, Screened } from '../fraud/fraud.service';
import { IdentityService } from '../identity/identity.service';
import { DebitInOrderArgs, LedgerService, Posting } from '../ledger/ledger.service';
import { CreateOrderDto } from './dto/orders.dto';
import { OrdersErrors } from './orders.errors';
import { NewOrder, OrdersRepository, ownershipKey } from './orders.repository';
import { OrderRow, OrderView, toOrderView } from './orders.rows';
import { RequestOrigin } from './request-origin';
import { PayWith } from './sale-plan';
import { ledgerReference, reviewHoldTarget, SaleSettlement, Settlement } from './sale-settlement.service';
import { sideBySide } from '../database/side-by-side';

interface PurchaseInput {
  buyerId: string;
  ownerId: string;
  gift: boolean;
  listingId: string;
  payWith: PayWith;
  request: IdempotentRequest;
  client: RequestOrigin;
}

/** A purchase that passed the listing checks, on its way to being paid, owned and recorded. */
interface Sale {
  index: number;
  input: PurchaseInput;
  listing: ListingForSale;
  orderId: string;
  paid: Posting[];
  /** The fraud rules asked for a review: the price is held, the item not owned yet. */
  held: boolean;
}

/**
 * Item purchases, for oneself or as a gift: ownership, payment and the creators' earnings in one
 * transaction. Concurrent purchases are group-committed: one transaction decides a batch of them with
 * a handful of set-based statements, each purchase still refused or accepted on its own. The fraud
 * rules judge a batch's purchases in one evaluation, after the listing checks and before the funds (the
 * funds are locked and read beside the evaluation; its refusal answers first): a purchase they block is
 * refused (403 FRAUD_BLOCKED), one they review is held (OrderReviewsService finishes it).
 */
@Injectable()
export class OrdersService implements BeforeApplicationShutdown {
  private readonly batches: GroupCommit<PurchaseInput, OrderView | IdempotentReplay>;

  constructor(
    tx: TransactionRunner,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly catalog: CatalogService,
    private readonly ledger: LedgerService,
    private readonly spending: SpendingPolicy,
    private readonly identity: IdentityService,
    private readonly fraud: FraudService,
    private readonly settlement: SaleSettlement,
    private readonly idempotency: IdempotencyService,
    private readonly orders: OrdersRepository,
  ) {
    this.batches = new GroupCommit(
      tx,
      () => orderBatches(config),
      (em, inputs) => this.buyMany(em, inputs),
      (p) => [`buyer:${p.buyerId}`, `own:${p.ownerId}/${p.listingId}`],
    );
  }
  /** On shutdown, purchases already queued or in a batch are decided before the connections close. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.batches.drained();
  }

  /** Buys as `buyerId`; a request repeated with its Idempotency-Key is answered with an IdempotentReplay. */
  async purchase(
    buyerId: string,
    dto: CreateOrderDto,
    request: IdempotentRequest,
    client: RequestOrigin,
  ): Promise<OrderView | IdempotentReplay> {
    const payWith: PayWith = dto.payWith ?? 'CREDIT';
    const listingId = dto.listingId; // ids arrive in lower case, as PostgreSQL returns them (IsId)
    const ownerId = dto.giftToUserId ?? buyerId;
    if (ownerId === buyerId && dto.giftToUserId) throw OrdersErrors.giftToSelf();
    const gift = ownerId !== buyerId;
    // PROMO is never gifted (ECONOMY.md): it buys items for its holder only.
    if (gift && payWith === 'PROMO') throw OrdersErrors.promoGift();
    // Everything else is decided in the batch, after the key's claim (buyMany).
    return this.batches.submit({ buyerId, ownerId, gift, listingId, payWith, request, client });
  }

  /**
   * Decides a batch (in which no buyer pays twice and no item goes to the same owner twice: the batcher
   * keeps such purchases for later batches): the idempotency keys first (replays and keys in use are
   * answered at once, before any other check: the route's interceptor does not look them up first),
   * the buyers' checks, then the purchases; the keys of the completed ones are recorded with their
   * responses beside the orders (buyAll), in the same transaction.
   */
  private async buyMany(em: EntityManager, inputs: PurchaseInput[]): Promise<BatchResult<OrderView | IdempotentReplay>> {
    // The keys, the buyers' checks and the listings go out together (one round trip): the checks and
    // the listings are read for every purchase, and looked at only for those their key lets through.
    const [{ outcomes, open }, refusals, listings] = await sideBySide([
      this.idempotency.claimBatch<OrderView>(
        em,
        inputs.map((p) => p.request),
      ),
      this.buyerRefusals(em, inputs),
      this.catalog.forSaleMany(em, [...new Set(inputs.map((p) => p.listingId))]),
    ]);
    for (const i of open) if (refusals[i]) outcomes[i] = { error: refusals[i] };
    await this.buyAll(
      em,
      inputs,
      listings,
      open.filter((i) => !outcomes[i]),
      outcomes,
    );
    for (const i of open) this.report(em, outcomes[i]);
    return { outcomes };
  }

  /**
   * The checks before the listing's, in the batch's transaction, per purchase: a gift's recipient, then
   * what stops the buyer spending (a gift: the account guard on value leaving the account) and their
   * debts. Both are read side by side; a missing recipient is the answer before the spending's.
   */
  private async buyerRefusals(em: EntityManager, inputs: PurchaseInput[]): Promise<(AppError | undefined)[]> {
    const gifts = inputs.filter((p) => p.gift);
    const [recipients, refusals] = await sideBySide([
      gifts.length ? this.identity.findUsers(em, [...new Set(gifts.map((p) => p.ownerId))]) : new Map<string, unknown>(),
      this.spending.spendRefusals(
        em,
        inputs.map((p) => ({ userId: p.buyerId, asset: p.payWith, gift: p.gift })),
      ),
    ]);
    return inputs.map((p, i) => (p.gift && !recipients.has(p.ownerId) ? OrdersErrors.giftRecipientNotFound() : refusals[i]));
  }

  /** Logs a placed order and counts every decided purchase by outcome (the order status or the refusal code), once committed. */
  private report(em: EntityManager, outcome: Outcome<OrderView | IdempotentReplay>): void {
    if ('error' in outcome) {
      afterCommit(em, () => BusinessMetrics.orders.inc({ outcome: outcome.error.code }));
      return;
    }
    const o = outcome.ok as OrderView;
    const fields = {
      orderId: o.id,
      buyerId: o.buyerId,
      ownerId: o.ownerId,
      listingId: o.listingId,
      status: o.status,
      price: o.price,
      payWith: o.payWith,
    };
    businessEvent(em, 'order.placed', fields, () => BusinessMetrics.orders.inc({ outcome: o.status }));
  }

  private async buyAll(
    em: EntityManager,
    inputs: PurchaseInput[],
    listings: Map<string, ListingForSale>,
    open: number[],
    outcomes: Outcome<OrderView | IdempotentReplay>[],
  ): Promise<void> {
    const checked: Sale[] = [];
    for (const index of open) {
      const input = inputs[index];
      const listing = listings.get(input.listingId);
      const refused = !listing
        ? OrdersErrors.listingNotFound()
        : listing.status !== 'published'
          ? OrdersErrors.notForSale(listing.status)
          : listing.creatorId === input.buyerId
            ? OrdersErrors.ownListing()
            : undefined;
      if (refused) outcomes[index] = { error: refused };
      else checked.push({ index, input, listing: listing!, orderId: randomUUID(), paid: [], held: false });
    }
    // The fraud rules judge the sales while the buyers' funds are locked (their balance rows in key
    // order, one statement) and read: side by side. A sale they block is not paid, and their refusal
    // comes before the funds' (API.md's order of checks). Payment, then ownership, claimed beside the
    // insert of the rules' decisions.
    const paying = checked.filter((s) => s.listing.price > 0n);
    const debited = paying.length
      ? this.ledger.debitsInOrder(
          em,
          paying.map((s) => debitOf(s.input, s.listing.price)),
        )
      : Promise.resolve({ debits: [], locked: undefined });
    const funded = new Set<Sale>();
    let owned = new Set<Sale>();
    const [sales, { locked }] = await sideBySide([
      this.screen(em, checked, outcomes, async (sales) => {
        const { debits } = await debited;
        this.fund(sales, paying, debits, funded, outcomes);
        owned = await this.own(
          em,
          [...funded].filter((s) => !s.held),
        );
      }),
      debited,
    ]);
    for (const s of funded) if (!s.held && !owned.has(s)) outcomes[s.index] = { error: OrdersErrors.alreadyOwned(s.input.gift) };
    const sold = sales.filter((s) => owned.has(s));
    const held = [...funded].filter((s) => s.held);
    await this.assertNotOwned(em, held);
    if (!sold.length && !held.length) return;

    const now = this.clock.now();
    const holds = await this.holdFunds(em, held, now);
    const placed = [...sold, ...held];
    const orders = placed.map((s) => newOrder(s, holds.get(s) ?? []));
    const views = orders.map((o) => toOrderView(placedRow(o, now)));
    // The sales' entries, the orders with their earning lines and the requests' keys with their
    // responses go out together: nothing in them waits on another's answer.
    await this.settlement.settle(
      em,
      sold.map(settlementOf),
      now,
      (lines) =>
        sideBySide([
          this.orders.insertWithEarnings(em, orders, lines, now),
          this.idempotency.complete(
            em,
            placed.map((s, i) => ({ request: s.input.request, body: views[i] })),
          ),
        ]),
      locked,
    );
    placed.forEach((s, i) => (outcomes[s.index] = { ok: views[i] }));
  }

  /**
   * The fraud rules on the sales that passed the listing checks (one evaluation for the batch): a
   * blocked sale is refused, a reviewed one goes on `held`; answers the sales that go on.
   */
  private async screen(
    em: EntityManager,
    sales: Sale[],
    outcomes: Outcome<OrderView | IdempotentReplay>[],
    beside: (sales: Sale[]) => Promise<void>,
  ): Promise<Sale[]> {
    const screened = await this.fraud.screenBatch(
      em,
      sales,
      (s) => ({
        type: 'item_purchase',
        userId: s.input.buyerId,
        subjectId: s.orderId,
        amount: s.listing.price,
        recipientId: s.input.gift ? s.input.ownerId : undefined,
        ip: s.input.client.ip,
        sessionId: s.input.client.sessionId,
      }),
      outcomes,
      (passed) => beside(passed.map(withReview)),
    );
    return screened.map(withReview);
  }

  /**
   * The screened sales that are paid for: free ones, and those whose debit went through (their
   * postings kept on the sale); a debit refused is the sale's answer.
   */
  private fund(
    sales: Sale[],
    paying: Sale[],
    debits: (AppError | { postings: Posting[] })[],
    funded: Set<Sale>,
    outcomes: Outcome<OrderView | IdempotentReplay>[],
  ): void {
    const screened = new Set(sales);
    for (const s of sales) if (s.listing.price === 0n) funded.add(s);
    paying.forEach((s, i) => {
      if (!screened.has(s)) return;
      const debit = debits[i];
      if (debit instanceof AppError) {
        // A held sale's review is open in this transaction: refusing it alone must take the review
        // back too, so the batch fails and is split until this purchase is decided alone.
        if (s.held) throw debit;
        outcomes[s.index] = { error: debit };
      } else {
        s.paid = debit.postings;
        funded.add(s);
      }
    });
  }

  /** A held sale of an item its owner has already: refused alone (see the funds above), its review with it. */
  private async assertNotOwned(em: EntityManager, held: Sale[]): Promise<void> {
    const owned = await this.orders.owned(
      em,
      held.map((s) => ({ ownerId: s.input.ownerId, listingId: s.listing.id })),
    );
    const taken = held.find((s) => owned.has(ownershipKey(s.input.ownerId, s.listing.id)));
    if (taken) throw OrdersErrors.alreadyOwned(taken.input.gift);
  }

  /**
   * Reserves each held sale's price where it would be paid from: one ledger hold per account debited
   * (wallet, then earnings), referenced from the order's request, until FRAUD_REVIEW_HOLD_DAYS.
   */
  private async holdFunds(em: EntityManager, held: Sale[], now: Date): Promise<Map<Sale, string[]>> {
    const ids = new Map<Sale, string[]>();
    const expiresAt = addDays(now, this.config.fraud.reviewHoldDays);
    for (const s of held) {
      const sale = ledgerReference(s.input.buyerId, s.input.request.key);
      const got: string[] = [];
      // In the accounts' key order (the order the ledger locks them in), which approval voids them in too.
      for (const leg of sortedBy(s.paid, accountName)) {
        const name = accountName(leg);
        const { holdId } = await this.ledger.hold(em, {
          reference: reviewHoldReference(s.input.request, name),
          kind: 'order_review',
          from: leg.account,
          to: reviewHoldTarget(s.input.payWith),
          amount: -leg.amount,
          expiresAt,
          metadata: { orderId: s.orderId, sale },
        });
        got.push(holdId);
      }
      ids.set(s, got);
    }
    return ids;
  }

  /** Ownership rows for the sales; answers the sales that got theirs (the others' items are owned already). */
  private async own(em: EntityManager, sales: Sale[]): Promise<Set<Sale>> {
    if (!sales.length) return new Set();
    const got = await this.orders.insertOwnership(
      em,
      sales.map((s) => ({ ownerId: s.input.ownerId, listingId: s.listing.id, orderId: s.orderId })),
      this.clock.now(),
    );
    return new Set(sales.filter((s) => got.has(s.orderId)));
  }
}

/** A screened sale, with whether the rules hold it for review. */
const withReview = ({ unit, review }: Screened<Sale>): Sale => Object.assign(unit, { held: review });

/** Purchases decided together: ORDER_BATCH_MAX, ORDER_BATCH_CONCURRENCY, ORDER_BATCH_PARALLEL_MIN. */
export function orderBatches(config: AppConfig): GroupCommitLimits {
  const { batchMax, batchConcurrency, batchParallelMin } = config.orders;
  return { max: batchMax, concurrency: batchConcurrency, parallelMin: batchParallelMin, genericPlans: true };
}

const accountName = (p: Posting): string => ('name' in p.account ? p.account.name : p.account.system);

/** The reference of a held order's hold on one of the buyer's accounts: derived from the order's request. */
function reviewHoldReference(request: IdempotentRequest, account: string): string {
  return IdempotencyService.reference(`order_review_hold:${account}`, request);
}

function settlementOf(s: Sale): Settlement {
  return {
    orderId: s.orderId,
    listing: s.listing,
    buyerId: s.input.buyerId,
    ownerId: s.input.ownerId,
    payWith: s.input.payWith,
    paid: s.paid,
    reference: ledgerReference(s.input.buyerId, s.input.request.key),
  };
}

/** The order row of a sale (held for review: with the holds reserving its price). */
function newOrder(s: Sale, reviewHoldIds: string[]): NewOrder {
  return {
    id: s.orderId,
    buyerId: s.input.buyerId,
    ownerId: s.input.ownerId,
    listingId: s.listing.id,
    listingTitle: s.listing.title,
    sellerId: s.listing.creatorId,
    payWith: s.input.payWith,
    price: s.listing.price,
    derivationCost: s.listing.derivationCost,
    profit: s.listing.profit,
    platformFee: s.listing.platformFee,
    paidFrom: Object.fromEntries(s.paid.map((p) => ['name' in p.account ? p.account.name : 'system', (-p.amount).toString()])),
    idempotencyKey: s.input.request.key,
    status: s.held ? 'held_for_review' : 'completed',
    reviewHoldIds,
  };
}

/** The row `insertWithEarnings` writes for an order placed at `createdAt`. */
function placedRow(o: NewOrder, createdAt: Date): OrderRow {
  return {
    id: o.id,
    buyer_id: o.buyerId,
    owner_id: o.ownerId,
    listing_id: o.listingId,
    listing_title: o.listingTitle,
    seller_id: o.sellerId,
    pay_with: o.payWith,
    price: o.price.toString(),
    derivation_cost: o.derivationCost.toString(),
    profit: o.profit.toString(),
    platform_fee: o.platformFee.toString(),
    paid_from: o.paidFrom,
    status: o.status,
    created_at: createdAt,
    refunded_at: null,
    refund_reason: null,
    refund_charged_creator: null,
    review_hold_ids: o.reviewHoldIds,
    idempotency_key: o.idempotencyKey,
  };
}

/** The buyer's side of a purchase: CREDIT from `wallet`, then `earnings`; PROMO from the PROMO wallet. */
export function debitOf(p: Pick<PurchaseInput, 'buyerId' | 'payWith'>, amount: bigint): DebitInOrderArgs {
  return { userId: p.buyerId, asset: p.payWith, from: p.payWith === 'CREDIT' ? ['wallet', 'earnings'] : ['wallet'], amount };
}

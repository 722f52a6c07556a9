import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { CatalogService, ListingForSale } from '../catalog/catalog.service';
import { SpendingPolicy } from '../account-guard/spending.policy';
import { Clock } from '../common/clock.service';
import { AppError } from '../common/errors';
import { IdempotencyService, IdempotentReplay, IdempotentRequest } from '../common/idempotency/idempotency.service';
import { Outcome } from '../common/outcome';
import { AppConfig } from '../config/app-config';
import { BatchResult, GroupCommit } from '../database/group-commit';
import { TransactionRunner } from '../database/transaction-runner';
import { IdentityService } from '../identity/identity.service';
import { DebitInOrderArgs, LedgerService, Posting } from '../ledger/ledger.service';
import { CreateOrderDto } from './dto/orders.dto';
import { EarningsMaturityPolicy } from './earnings-maturity.policy';
import { OrdersErrors } from './orders.errors';
import { NewOrder, OrdersRepository } from './orders.repository';
import { OrderView, toOrderView } from './orders.rows';
import { PayWith, planSale } from './sale-plan';

interface PurchaseInput {
  buyerId: string;
  ownerId: string;
  gift: boolean;
  listingId: string;
  payWith: PayWith;
  request: IdempotentRequest;
}

/** A purchase that passed the listing checks, on its way to being paid, owned and recorded. */
interface Sale {
  index: number;
  input: PurchaseInput;
  listing: ListingForSale;
  orderId: string;
  paid: Posting[];
}

/**
 * Item purchases, for oneself or as a gift: ownership, payment and the creators' earnings in one
 * transaction. Concurrent purchases are group-committed: one transaction decides a batch of them with
 * a handful of set-based statements, each purchase still refused or accepted on its own.
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
    private readonly maturity: EarningsMaturityPolicy,
    private readonly idempotency: IdempotencyService,
    private readonly orders: OrdersRepository,
  ) {
    this.batches = new GroupCommit(
      tx,
      () => {
        const { batchMax, batchConcurrency, batchParallelMin } = config.orders;
        return { max: batchMax, concurrency: batchConcurrency, parallelMin: batchParallelMin };
      },
      (em, inputs) => this.buyMany(em, inputs),
      (p) => [`buyer:${p.buyerId}`, `own:${p.ownerId}/${p.listingId}`],
    );
  }
  /** On shutdown, purchases already queued or in a batch are decided before the connections close. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.batches.drained();
  }

  /** Buys as `buyerId`; a request repeated with its Idempotency-Key is answered with an IdempotentReplay. */
  async purchase(buyerId: string, dto: CreateOrderDto, request: IdempotentRequest): Promise<OrderView | IdempotentReplay> {
    const payWith: PayWith = dto.payWith ?? 'CREDIT';
    const listingId = dto.listingId; // ids arrive in lower case, as PostgreSQL returns them (IsId)
    const ownerId = dto.giftToUserId ?? buyerId;
    if (ownerId === buyerId && dto.giftToUserId) throw OrdersErrors.giftToSelf();
    const gift = ownerId !== buyerId;
    // PROMO is never gifted (ECONOMY.md): it buys items for its holder only.
    if (gift && payWith === 'PROMO') throw OrdersErrors.promoGift();
    if (gift && !(await this.identity.userExists(undefined, ownerId))) throw OrdersErrors.giftRecipientNotFound();
    if (gift) await this.spending.assertMayMoveValue(buyerId, 'item_gift');
    else await this.spending.assertMaySpend(buyerId);
    return this.batches.submit({ buyerId, ownerId, gift, listingId, payWith, request });
  }

  /**
   * Decides a batch (in which no buyer pays twice and no item goes to the same owner twice: the batcher
   * keeps such purchases for later batches): the idempotency keys first (replays and keys in use are
   * answered at once), then the purchases, and the keys of the completed ones are recorded with their
   * responses in the same transaction.
   */
  private async buyMany(em: EntityManager, inputs: PurchaseInput[]): Promise<BatchResult<OrderView | IdempotentReplay>> {
    const outcomes: Outcome<OrderView | IdempotentReplay>[] = new Array(inputs.length);
    const claims = await this.idempotency.claim(
      em,
      inputs.map((p) => p.request),
    );
    claims.forEach((c, i) => {
      if (c) outcomes[i] = c instanceof IdempotentReplay ? { ok: c } : { error: c };
    });
    const open = inputs.map((_, i) => i).filter((i) => !outcomes[i]);
    await this.buyAll(em, inputs, open, outcomes);
    const done = open.flatMap((i) => {
      const o = outcomes[i];
      return 'ok' in o ? [{ request: inputs[i].request, body: o.ok }] : [];
    });
    await this.idempotency.complete(em, done);
    return { outcomes };
  }

  private async buyAll(
    em: EntityManager,
    inputs: PurchaseInput[],
    open: number[],
    outcomes: Outcome<OrderView | IdempotentReplay>[],
  ): Promise<void> {
    const listings = await this.catalog.forSaleMany(em, [...new Set(open.map((i) => inputs[i].listingId))]);
    const sales: Sale[] = [];
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
      else sales.push({ index, input, listing: listing!, orderId: randomUUID(), paid: [] });
    }

    // Payment first (the buyers' balance rows locked in key order, one statement), then ownership.
    const paying = sales.filter((s) => s.listing.price > 0n);
    const { debits, locked } = paying.length
      ? await this.ledger.debitsInOrder(
          em,
          paying.map((s) => debitOf(s.input, s.listing.price)),
        )
      : { debits: [], locked: undefined };
    const funded = new Set<Sale>(sales.filter((s) => s.listing.price === 0n));
    paying.forEach((s, i) => {
      const debit = debits[i];
      if (debit instanceof AppError) outcomes[s.index] = { error: debit };
      else {
        s.paid = debit.postings;
        funded.add(s);
      }
    });
    const owned = await this.own(em, [...funded]);
    for (const s of funded) if (!owned.has(s)) outcomes[s.index] = { error: OrdersErrors.alreadyOwned(s.input.gift) };
    const sold = sales.filter((s) => owned.has(s));
    if (!sold.length) return;

    const now = this.clock.now();
    const creators = [...new Set(sold.flatMap((s) => [s.listing.creatorId, ...s.listing.ancestors.map((a) => a.creatorId)]))];
    const maturesAt = await this.maturity.maturityDates(em, creators, now);
    const plans = sold.map((s) =>
      planSale(s.listing, s.input.payWith, {
        royaltyCapPercent: this.config.economy.royaltyCapPercent,
        devTokensPerCreator: this.config.economy.promoDevTokensPerCreator,
        now,
        maturesAt: (creatorId) => (s.input.payWith === 'CREDIT' ? maturesAt.get(creatorId) : undefined) ?? now,
      }),
    );
    const entries = sold.flatMap((s, i) =>
      s.paid.length || plans[i].postings.length
        ? [
            {
              kind: 'purchase',
              reference: IdempotencyService.reference('order', s.input.request),
              postings: [...s.paid, ...plans[i].postings],
              metadata: {
                orderId: s.orderId,
                listingId: s.listing.id,
                buyerId: s.input.buyerId,
                ownerId: s.input.ownerId,
                payWith: s.input.payWith,
              },
            },
          ]
        : [],
    );
    // Funds were decided above under the same locks, so a refusal here means a bug: fail the batch.
    for (const o of await this.ledger.postMany(em, entries, locked)) if ('error' in o) throw o.error;
    const rows = await this.orders.insertWithEarnings(
      em,
      sold.map(newOrder),
      sold.flatMap((s, i) => plans[i].lines.map((l) => ({ orderId: s.orderId, ...l }))),
      now,
    );
    sold.forEach((s, i) => (outcomes[s.index] = { ok: toOrderView(rows[i]) }));
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

/** The order row of a sale. */
function newOrder(s: Sale): NewOrder {
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
  };
}

/** The buyer's side of a purchase: CREDIT from `wallet`, then `earnings`; PROMO from the PROMO wallet. */
function debitOf(p: PurchaseInput, amount: bigint): DebitInOrderArgs {
  return { userId: p.buyerId, asset: p.payWith, from: p.payWith === 'CREDIT' ? ['wallet', 'earnings'] : ['wallet'], amount };
}

import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { CatalogService, ListingForSale } from '../catalog/catalog.service';
import { SpendingPolicy } from '../account-guard/spending.policy';
import { Clock } from '../common/clock.service';
import { IdempotencyService, IdempotentReplay, IdempotentRequest } from '../common/idempotency/idempotency.service';
import { AppError, notFound } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { PgError, pgCode, pgConstraint } from '../database/pg-errors';
import { queryRows } from '../database/sql';
import { Outcome } from '../common/outcome';
import { BatchResult, GroupCommit, GroupCommitLimits } from '../database/group-commit';
import { TransactionRunner } from '../database/transaction-runner';
import { IdentityService } from '../identity/identity.service';
import { DebitInOrderArgs, LedgerService, Posting } from '../ledger/ledger.service';
import { CreateOrderDto } from './dto/orders.dto';
import { FirstSales } from './first-sales';
import { ORDER_COLUMNS, OrderRow, OrderView, toOrderView } from './order.mapper';
import { PayWith, planSale, SalePlan } from './sale-plan';

const DAY_MS = 86_400_000;

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
export class OrdersService {
  private readonly batches: GroupCommit<PurchaseInput, OrderView | IdempotentReplay>;

  constructor(
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly catalog: CatalogService,
    private readonly ledger: LedgerService,
    private readonly spending: SpendingPolicy,
    private readonly identity: IdentityService,
    private readonly firstSales: FirstSales,
    private readonly idempotency: IdempotencyService,
  ) {
    this.batches = new GroupCommit(
      tx,
      () => purchaseBatchLimits(config),
      (em, inputs) => this.buyMany(em, inputs),
      (p) => [`buyer:${p.buyerId}`, `own:${p.ownerId}/${p.listingId}`],
    );
  }

  /** Buys as `buyerId`; a request repeated with its Idempotency-Key is answered with an IdempotentReplay. */
  async purchase(buyerId: string, dto: CreateOrderDto, request: IdempotentRequest): Promise<OrderView | IdempotentReplay> {
    const payWith: PayWith = dto.payWith ?? 'CREDIT';
    const listingId = dto.listingId; // ids arrive in lower case, as PostgreSQL returns them (IsId)
    const ownerId = dto.giftToUserId ?? buyerId;
    if (ownerId === buyerId && dto.giftToUserId) {
      throw new AppError('VALIDATION_FAILED', 'A gift goes to someone else', {}, [
        { field: 'giftToUserId', message: 'must not be yourself' },
      ]);
    }
    const gift = ownerId !== buyerId;
    if (gift && payWith === 'PROMO') {
      // PROMO is never gifted (ECONOMY.md): it buys items for its holder only.
      throw new AppError('VALIDATION_FAILED', 'PROMO credits pay only for items bought for yourself', {}, [
        { field: 'payWith', message: 'PROMO cannot pay for a gift' },
      ]);
    }
    if (gift && !(await this.identity.userExists(undefined, ownerId))) throw notFound('Gift recipient');
    if (gift) await this.spending.assertMayMoveValue(buyerId, 'item_gift');
    else await this.spending.assertMaySpend(buyerId);
    return this.batches
      .submit({ buyerId, ownerId, gift, listingId, payWith, request })
      .catch((err) => this.earlierOrder(err, buyerId, request.key));
  }

  /**
   * Decides a batch (in which no buyer pays twice and no item goes to the same owner twice: the batcher
   * keeps such purchases for later batches): the idempotency keys first (replays and keys in use are
   * answered at once), then the purchases, and the keys of the completed ones are recorded with their
   * responses in the same transaction.
   */
  private async buyMany(em: EntityManager, inputs: PurchaseInput[]): Promise<BatchResult<OrderView | IdempotentReplay>> {
    const outcomes: Outcome<OrderView | IdempotentReplay>[] = new Array(inputs.length);
    const claims = await this.idempotency.claimInTransaction(
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
      return 'ok' in o ? [{ ...inputs[i].request, status: 201, body: o.ok }] : [];
    });
    await this.idempotency.completeInTransaction(em, done);
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
        ? notFound('Listing')
        : listing.status !== 'published'
          ? new AppError('INVALID_STATE', 'This listing is not for sale', { status: listing.status })
          : listing.creatorId === input.buyerId
            ? new AppError('FORBIDDEN', 'You cannot buy your own listing')
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
    for (const s of funded) {
      if (owned.has(s)) continue;
      outcomes[s.index] = {
        error: new AppError('ALREADY_OWNED', s.input.gift ? 'The recipient already owns this item' : 'You already own this item'),
      };
    }
    const sold = sales.filter((s) => owned.has(s));
    if (!sold.length) return;

    const now = this.clock.now();
    const maturesAt = await this.holdsFor(em, sold, now);
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
              reference: `order:${s.orderId}`,
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
    const rows = await this.insertOrders(em, sold, plans, now);
    sold.forEach((s, i) => (outcomes[s.index] = { ok: toOrderView(rows[i]) }));
  }

  /**
   * Ownership rows for the sales (in a fixed order, against lock cycles between batches); answers the
   * sales that got theirs. A concurrent purchase of the same item for the same owner waits on the
   * unique index and, once the other commits, finds the item owned.
   */
  private async own(em: EntityManager, sales: Sale[]): Promise<Set<Sale>> {
    if (!sales.length) return new Set();
    const key = (owner: string, listing: string) => `${owner}/${listing}`;
    const sorted = [...sales].sort((a, b) => (key(a.input.ownerId, a.listing.id) < key(b.input.ownerId, b.listing.id) ? -1 : 1));
    const rows = await queryRows<{ order_id: string }>(
      em,
      `INSERT INTO inventory (owner_id, listing_id, order_id, acquired_at)
       SELECT owner_id, listing_id, order_id, $4 FROM unnest($1::uuid[], $2::uuid[], $3::uuid[]) WITH ORDINALITY AS t(owner_id, listing_id, order_id, ord)
        ORDER BY ord
       ON CONFLICT (owner_id, listing_id) WHERE revoked_at IS NULL DO NOTHING RETURNING order_id`,
      [sorted.map((s) => s.input.ownerId), sorted.map((s) => s.listing.id), sorted.map((s) => s.orderId), this.clock.now()],
      { prepare: true },
    );
    const got = new Set(rows.map((r) => r.order_id));
    return new Set(sales.filter((s) => got.has(s.orderId)));
  }

  /**
   * The idempotency layer replays completed requests; this covers a request re-run after a crash left
   * its key unfinished: the first run's order exists (so the item is owned, or the key is taken).
   */
  private async earlierOrder(err: unknown, buyerId: string, idempotencyKey: string): Promise<OrderView> {
    const conflict =
      (err instanceof AppError && err.code === 'ALREADY_OWNED') ||
      (pgCode(err) === PgError.UNIQUE_VIOLATION && pgConstraint(err) === 'orders_idempotency');
    if (!conflict) throw err;
    const rows = await queryRows<OrderRow>(
      this.tx.manager,
      `SELECT ${ORDER_COLUMNS} FROM orders WHERE buyer_id = $1 AND idempotency_key = $2`,
      [buyerId, idempotencyKey],
    );
    if (!rows.length) throw err;
    return toOrderView(rows[0]);
  }

  /**
   * When each creator's CREDIT share matures: after the standard hold, or the longer one while the
   * creator's first sale is recent (this sale counts as the first when there was none).
   */
  private async holdsFor(em: EntityManager, sales: Sale[], now: Date): Promise<Map<string, Date>> {
    const creators = [...new Set(sales.flatMap((s) => [s.listing.creatorId, ...s.listing.ancestors.map((a) => a.creatorId)]))];
    const firstSale = await this.firstSales.record(em, creators, now);
    const e = this.config.economy;
    const holds = new Map<string, Date>();
    for (const c of creators) {
      const isNew = now.getTime() - (firstSale.get(c) ?? now).getTime() < e.newCreatorPeriodDays * DAY_MS;
      holds.set(c, new Date(now.getTime() + (isNew ? e.newCreatorHoldDays : e.earningsHoldDays) * DAY_MS));
    }
    return holds;
  }

  /** The orders and their creators' earning lines, in one statement; rows come back in the sales' order. */
  private async insertOrders(em: EntityManager, sales: Sale[], plans: SalePlan[], now: Date): Promise<OrderRow[]> {
    const lines = sales.flatMap((s, i) => plans[i].lines.map((l) => ({ orderId: s.orderId, ...l })));
    const col = <K extends keyof (typeof lines)[number]>(k: K) => lines.map((l) => l[k]);
    const o = <T>(f: (s: Sale) => T) => sales.map(f);
    const paidFrom = (s: Sale) =>
      JSON.stringify(Object.fromEntries(s.paid.map((p) => ['name' in p.account ? p.account.name : 'system', (-p.amount).toString()])));
    const rows = await queryRows<OrderRow>(
      em,
      `WITH o AS (
         INSERT INTO orders (id, buyer_id, owner_id, listing_id, listing_title, seller_id, pay_with, price, derivation_cost, profit,
           platform_fee, paid_from, status, idempotency_key, created_at)
         SELECT id, buyer_id, owner_id, listing_id, listing_title, seller_id, pay_with, price, derivation_cost, profit,
           platform_fee, paid_from::jsonb, 'completed', idempotency_key, $13
           FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::uuid[], $7::text[], $8::bigint[], $9::bigint[],
                       $10::bigint[], $11::bigint[], $12::text[], $14::text[])
                AS t(id, buyer_id, owner_id, listing_id, listing_title, seller_id, pay_with, price, derivation_cost, profit, platform_fee,
                     paid_from, idempotency_key)
         RETURNING ${ORDER_COLUMNS}),
       e AS (
         INSERT INTO sale_earnings (order_id, creator_id, listing_id, role, asset, amount, status, created_at, matures_at, matured_at)
         SELECT x.order_id, x.creator_id, x.listing_id, x.role, x.asset, x.amount, x.status, $13, x.matures_at, x.matured_at
         FROM unnest($15::uuid[], $16::uuid[], $17::uuid[], $18::text[], $19::text[], $20::bigint[], $21::text[], $22::timestamptz[], $23::timestamptz[])
           AS x(order_id, creator_id, listing_id, role, asset, amount, status, matures_at, matured_at))
       SELECT * FROM o`,
      [
        o((s) => s.orderId),
        o((s) => s.input.buyerId),
        o((s) => s.input.ownerId),
        o((s) => s.listing.id),
        o((s) => s.listing.title),
        o((s) => s.listing.creatorId),
        o((s) => s.input.payWith),
        o((s) => s.listing.price.toString()),
        o((s) => s.listing.derivationCost.toString()),
        o((s) => s.listing.profit.toString()),
        o((s) => s.listing.platformFee.toString()),
        o(paidFrom),
        now,
        o((s) => s.input.request.key),
        col('orderId'),
        col('creatorId'),
        col('listingId'),
        col('role'),
        col('asset'),
        col('amount').map(String),
        col('status'),
        col('maturesAt'),
        col('maturedAt'),
      ],
      { prepare: true },
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    return sales.map((s) => byId.get(s.orderId)!);
  }
}

/** Group-commit limits for purchases: the ledger's (LEDGER_BATCH_*), with smaller batches (each purchase does more). */
function purchaseBatchLimits(config: AppConfig): GroupCommitLimits {
  const { batchMax, batchConcurrency, batchParallelMin } = config.ledger;
  return { max: Math.min(batchMax, 100), concurrency: batchConcurrency, parallelMin: Math.min(batchParallelMin, 8) };
}

/** The buyer's side of a purchase: CREDIT from `wallet`, then `earnings`; PROMO from the PROMO wallet. */
function debitOf(p: PurchaseInput, amount: bigint): DebitInOrderArgs {
  return { userId: p.buyerId, asset: p.payWith, from: p.payWith === 'CREDIT' ? ['wallet', 'earnings'] : ['wallet'], amount };
}

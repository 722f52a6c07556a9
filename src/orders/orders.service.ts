import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { CatalogService, ListingForSale } from '../catalog/catalog.service';
import { SpendingPolicy } from '../catalog/spending-policy';
import { Clock } from '../common/clock.service';
import { AppError, notFound } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { PgError, pgCode, pgConstraint } from '../database/pg-errors';
import { preparedRows, queryRows } from '../database/sql';
import { TransactionRunner } from '../database/transaction-runner';
import { IdentityService } from '../identity/identity.service';
import { Debit, LedgerService } from '../ledger/ledger.service';
import { CreateOrderDto } from './dto/orders.dto';
import { FirstSales } from './first-sales';
import { ORDER_COLUMNS, OrderRow, OrderView, toOrderView } from './order.mapper';
import { EarningLine, PayWith, planSale } from './sale-plan';

const DAY_MS = 86_400_000;

interface PurchaseInput {
  buyerId: string;
  ownerId: string;
  gift: boolean;
  listingId: string;
  payWith: PayWith;
  idempotencyKey: string;
}

/** Item purchases, for oneself or as a gift: ownership, payment and the creators' earnings in one transaction. */
@Injectable()
export class OrdersService {
  constructor(
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly catalog: CatalogService,
    private readonly ledger: LedgerService,
    private readonly spending: SpendingPolicy,
    private readonly identity: IdentityService,
    private readonly firstSales: FirstSales,
  ) {}

  async purchase(buyerId: string, dto: CreateOrderDto, idempotencyKey: string): Promise<OrderView> {
    const payWith: PayWith = dto.payWith ?? 'CREDIT';
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
    return this.tx
      .run((em) => this.buyInTransaction(em, { buyerId, ownerId, gift, listingId: dto.listingId, payWith, idempotencyKey }))
      .catch((err) => this.earlierOrder(err, buyerId, idempotencyKey));
  }

  private async buyInTransaction(em: EntityManager, p: PurchaseInput): Promise<OrderView> {
    const { buyerId, ownerId, gift, listingId, payWith, idempotencyKey } = p;
    const listing = await this.catalog.forSale(em, listingId);
    if (listing.status !== 'published') throw new AppError('INVALID_STATE', 'This listing is not for sale', { status: listing.status });
    if (listing.creatorId === buyerId) throw new AppError('FORBIDDEN', 'You cannot buy your own listing');

    const orderId = randomUUID();
    const now = this.clock.now();
    // Ownership first: a concurrent purchase of the same item for the same owner waits on this row
    // (unique index) and, once this one commits, is refused before it touches any balance.
    const owned = await preparedRows(
      em,
      `INSERT INTO inventory (owner_id, listing_id, order_id, acquired_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (owner_id, listing_id) WHERE revoked_at IS NULL DO NOTHING RETURNING id`,
      [ownerId, listing.id, orderId, now],
    );
    if (!owned.length) throw new AppError('ALREADY_OWNED', gift ? 'The recipient already owns this item' : 'You already own this item');

    const maturesAt = await this.holdsFor(em, listing, payWith, now);
    const plan = planSale(listing, payWith, {
      royaltyCapPercent: this.config.economy.royaltyCapPercent,
      devTokensPerCreator: this.config.economy.promoDevTokensPerCreator,
      now,
      maturesAt: (creatorId) => maturesAt.get(creatorId) ?? now,
    });
    const debit = listing.price > 0n ? await this.pay(em, buyerId, payWith, listing.price) : undefined;
    const paid = debit?.postings ?? [];
    if (listing.price > 0n || plan.postings.length > 0) {
      await this.ledger.post(
        em,
        {
          kind: 'purchase',
          reference: `order:${orderId}`,
          postings: [...paid, ...plan.postings],
          metadata: { orderId, listingId: listing.id, buyerId, ownerId, payWith },
        },
        debit?.locked,
      );
    }
    const paidFrom = Object.fromEntries(paid.map((p) => ['name' in p.account ? p.account.name : 'system', (-p.amount).toString()]));
    const row = await this.insertOrder(em, { orderId, buyerId, ownerId, listing, payWith, paidFrom, idempotencyKey, now }, plan.lines);
    return toOrderView(row);
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

  /** The buyer's legs: CREDIT from `wallet`, then `earnings`; PROMO from the PROMO wallet. */
  private pay(em: EntityManager, buyerId: string, payWith: PayWith, price: bigint): Promise<Debit> {
    const from: ('wallet' | 'earnings')[] = payWith === 'CREDIT' ? ['wallet', 'earnings'] : ['wallet'];
    return this.ledger.debitInOrder(em, { userId: buyerId, asset: payWith, from, amount: price });
  }

  /**
   * When each creator's CREDIT share matures: after the standard hold, or the longer one while the
   * creator's first sale is recent (this sale counts as the first when there was none).
   */
  private async holdsFor(em: EntityManager, listing: ListingForSale, payWith: PayWith, now: Date): Promise<Map<string, Date>> {
    const creators = [...new Set([listing.creatorId, ...listing.ancestors.map((a) => a.creatorId)])];
    const firstSale = await this.firstSales.record(em, creators, now);
    const e = this.config.economy;
    const holds = new Map<string, Date>();
    if (payWith !== 'CREDIT') return holds;
    for (const c of creators) {
      const isNew = now.getTime() - (firstSale.get(c) ?? now).getTime() < e.newCreatorPeriodDays * DAY_MS;
      holds.set(c, new Date(now.getTime() + (isNew ? e.newCreatorHoldDays : e.earningsHoldDays) * DAY_MS));
    }
    return holds;
  }

  private async insertOrder(
    em: EntityManager,
    o: {
      orderId: string;
      buyerId: string;
      ownerId: string;
      listing: ListingForSale;
      payWith: PayWith;
      paidFrom: Record<string, string>;
      idempotencyKey: string;
      now: Date;
    },
    lines: EarningLine[],
  ): Promise<OrderRow> {
    const col = <K extends keyof EarningLine>(k: K) => lines.map((l) => l[k]);
    const [row] = await preparedRows<OrderRow>(
      em,
      `WITH o AS (
         INSERT INTO orders (id, buyer_id, owner_id, listing_id, listing_title, seller_id, pay_with, price, derivation_cost, profit,
           platform_fee, paid_from, status, idempotency_key, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, 'completed', $13, $14) RETURNING ${ORDER_COLUMNS}),
       e AS (
         INSERT INTO sale_earnings (order_id, creator_id, listing_id, role, asset, amount, status, created_at, matures_at, matured_at)
         SELECT $1, x.creator_id, x.listing_id, x.role, x.asset, x.amount, x.status, $14, x.matures_at, x.matured_at
         FROM unnest($15::uuid[], $16::uuid[], $17::text[], $18::text[], $19::bigint[], $20::text[], $21::timestamptz[], $22::timestamptz[])
           AS x(creator_id, listing_id, role, asset, amount, status, matures_at, matured_at))
       SELECT * FROM o`,
      [
        o.orderId,
        o.buyerId,
        o.ownerId,
        o.listing.id,
        o.listing.title,
        o.listing.creatorId,
        o.payWith,
        o.listing.price.toString(),
        o.listing.derivationCost.toString(),
        o.listing.profit.toString(),
        o.listing.platformFee.toString(),
        JSON.stringify(o.paidFrom),
        o.idempotencyKey,
        o.now,
        col('creatorId'),
        col('listingId'),
        col('role'),
        col('asset'),
        col('amount').map(String),
        col('status'),
        col('maturesAt'),
        col('maturedAt'),
      ],
    );
    return row;
  }
}

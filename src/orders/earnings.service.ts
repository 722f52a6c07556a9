import { Injectable, OnModuleInit } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { amountToJson } from '../common/money';
import { Page, PageQuery, pageLimit, toPage } from '../common/pagination';
import { queryRows } from '../database/sql';
import { serialCursor } from '../common/cursors';
import { TransactionRunner } from '../database/transaction-runner';
import { JobsService } from '../jobs/jobs.service';
import { LedgerService, userAccount } from '../ledger/ledger.service';

export const MATURATION_JOB = 'orders.mature-earnings';
const BATCH = 500;
/** Legs per ledger entry (the ledger's limit). */
const MAX_LEGS = 64;

export interface SaleView {
  id: string;
  orderId: string;
  /** The creator's own listing in the sold item's derivation chain. */
  listingId: string;
  soldListingId: string;
  soldListingTitle: string;
  role: 'seller' | 'ancestor';
  payWith: 'CREDIT' | 'PROMO';
  asset: 'CREDIT' | 'DEV_TOKEN';
  amount: number;
  state: 'pending' | 'matured' | 'reversed';
  soldAt: string;
  maturesAt: string;
  maturedAt: string | null;
  reversedAt: string | null;
}

/** Creators' proceeds: `earnings_pending` until the hold ends, then `earnings` (a periodic job on the business clock). */
@Injectable()
export class EarningsService implements OnModuleInit {
  constructor(
    private readonly tx: TransactionRunner,
    private readonly ledger: LedgerService,
    private readonly jobs: JobsService,
  ) {}

  onModuleInit(): void {
    this.jobs.registerPeriodic({ name: MATURATION_JOB, run: (now) => this.matureDue(now) });
  }

  /** Matures every share whose hold ended by `now`; safe to run concurrently (rows are claimed with SKIP LOCKED). */
  async matureDue(now: Date): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.tx.run((em) => this.matureBatch(em, now));
      total += n;
      if (n < BATCH) return total;
    }
  }

  private async matureBatch(em: EntityManager, now: Date): Promise<number> {
    const lines = await queryRows<{ id: string; creator_id: string; amount: string }>(
      em,
      `SELECT id, creator_id, amount FROM sale_earnings WHERE status = 'pending' AND matures_at <= $1
       ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [now, BATCH],
    );
    if (!lines.length) return 0;
    // One entry per group of creators (an entry has at most MAX_LEGS legs, two per creator). A line
    // matures in exactly one committed batch, so a group's first line names its entry uniquely.
    const byCreator = new Map<string, { firstLine: string; amount: bigint }>();
    for (const l of lines) {
      const c = byCreator.get(l.creator_id) ?? { firstLine: l.id, amount: 0n };
      byCreator.set(l.creator_id, { firstLine: c.firstLine, amount: c.amount + BigInt(l.amount) });
    }
    const creators = [...byCreator].filter(([, c]) => c.amount > 0n);
    for (let i = 0; i < creators.length; i += MAX_LEGS / 2) {
      const group = creators.slice(i, i + MAX_LEGS / 2);
      await this.ledger.post(em, {
        kind: 'earnings_maturation',
        reference: `earnings_maturation:${group[0][1].firstLine}`,
        postings: group.flatMap(([creatorId, c]) => [
          { account: userAccount(creatorId, 'CREDIT', 'earnings_pending'), amount: -c.amount },
          { account: userAccount(creatorId, 'CREDIT', 'earnings'), amount: c.amount },
        ]),
      });
    }
    await em.query(`UPDATE sale_earnings SET status = 'matured', matured_at = $2 WHERE id = ANY ($1::bigint[])`, [
      lines.map((l) => l.id),
      now,
    ]);
    return lines.length;
  }

  /** GET /me/sales: every share the creator earned, newest first, with its state. */
  async sales(creatorId: string, page: PageQuery): Promise<Page<SaleView>> {
    const limit = pageLimit(page);
    const rows = await queryRows<Record<string, unknown>>(
      this.tx.manager,
      `SELECT e.id::text, e.order_id, e.listing_id, o.listing_title, o.listing_id AS sold_listing_id, e.role, o.pay_with, e.asset, e.amount,
         e.status, e.created_at, e.matures_at, e.matured_at, e.reversed_at
       FROM sale_earnings e JOIN orders o ON o.id = e.order_id
       WHERE e.creator_id = $1 AND ($2::bigint IS NULL OR e.id < $2::bigint)
       ORDER BY e.id DESC LIMIT $3`,
      [creatorId, serialCursor(page.cursor), limit + 1],
    );
    return toPage(
      rows,
      limit,
      (r): SaleView => ({
        id: r.id as string,
        orderId: r.order_id as string,
        listingId: r.listing_id as string,
        soldListingId: r.sold_listing_id as string,
        soldListingTitle: r.listing_title as string,
        role: r.role as SaleView['role'],
        payWith: r.pay_with as SaleView['payWith'],
        asset: r.asset as SaleView['asset'],
        amount: amountToJson(r.amount as string),
        state: r.status as SaleView['state'],
        soldAt: (r.created_at as Date).toISOString(),
        maturesAt: (r.matures_at as Date).toISOString(),
        maturedAt: (r.matured_at as Date | null)?.toISOString() ?? null,
        reversedAt: (r.reversed_at as Date | null)?.toISOString() ?? null,
      }),
      (r) => [r.id as string],
    );
  }
}

import { Injectable, OnModuleInit } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { serialCursor } from '../common/cursors';
import { Page, PageQuery, pageLimit, toPage } from '../common/pagination';
import { TransactionRunner } from '../database/transaction-runner';
import { JobsService } from '../jobs/jobs.service';
import { LedgerService, userAccount } from '../ledger/ledger.service';
import { EarningsRepository, SaleView, toSaleView } from './earnings.repository';

export const MATURATION_JOB = 'orders.mature-earnings';
const BATCH = 500;
/** Legs per ledger entry (the ledger's limit). */
const MAX_LEGS = 64;

/** Creators' proceeds: `earnings_pending` until their maturity date, then `earnings` (a periodic job on the business clock). */
@Injectable()
export class EarningsService implements OnModuleInit {
  constructor(
    private readonly tx: TransactionRunner,
    private readonly ledger: LedgerService,
    private readonly jobs: JobsService,
    private readonly earnings: EarningsRepository,
  ) {}

  onModuleInit(): void {
    this.jobs.registerPeriodic({ name: MATURATION_JOB, run: (now) => this.matureDue(now) });
  }

  /** Matures every share whose maturity date is `now` or earlier; safe to run concurrently (rows are claimed with SKIP LOCKED). */
  async matureDue(now: Date): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.tx.run((em) => this.matureBatch(em, now));
      total += n;
      if (n < BATCH) return total;
    }
  }

  private async matureBatch(em: EntityManager, now: Date): Promise<number> {
    const lines = await this.earnings.dueForUpdate(em, now, BATCH);
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
    await this.earnings.markMatured(
      em,
      lines.map((l) => l.id),
      now,
    );
    return lines.length;
  }

  /** GET /me/sales: every share the creator earned, newest first, with its state. */
  async sales(creatorId: string, page: PageQuery): Promise<Page<SaleView>> {
    const limit = pageLimit(page);
    const rows = await this.earnings.salesPage(this.tx.manager, creatorId, serialCursor(page.cursor), limit + 1);
    return toPage(rows, limit, toSaleView, (r) => [r.seq]);
  }
}

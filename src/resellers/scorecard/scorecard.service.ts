import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Clock } from '../../common/clock.service';
import { rethrowBadCursor } from '../../common/cursors';
import { decodeCursor, Page, PageQuery, pageLimit, toPage } from '../../common/pagination';
import { addDays } from '../../common/time';
import { AppConfig } from '../../config/app-config';
import { TransactionRunner } from '../../database/transaction-runner';
import { LedgerService, userAccount } from '../../ledger/ledger.service';
import { DirectoryEntryView, ScorecardView } from '../dto/scorecard.dto';
import { OrderStats, ResellerOrdersRepository } from '../orders/reseller-orders.repository';
import { bondCovered, standingOf } from '../reseller-standing.policy';
import { Reseller, ResellersRepository } from '../resellers.repository';
import { ResellersErrors } from '../resellers.errors';
import { trustScore } from './trust-score.policy';

export type Scorecard = ScorecardView;

const ratio = (n: number, d: number): number | null => (d === 0 ? null : n / d);

/**
 * A reseller's record over the last RESELLER_SCORECARD_DAYS (orders opened in [now − days, now)) and
 * the trust score computed from it (trust-score.policy.ts); the public directory of active resellers.
 */
@Injectable()
export class ScorecardService {
  constructor(
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly ledger: LedgerService,
    private readonly orders: ResellerOrdersRepository,
    private readonly resellers: ResellersRepository,
  ) {}

  /** The scorecard as of `now`, read through `db` (pass a transaction's manager to read inside it, e.g. right after a resolution). */
  async forReseller(db: EntityManager | DataSource, resellerId: string, now: Date): Promise<Scorecard> {
    return (await this.many(db, [resellerId], now)).get(resellerId)!;
  }

  /** GET /reseller/scorecard, GET /admin/resellers/:id/scorecard. */
  async get(resellerId: string): Promise<Scorecard> {
    if (!(await this.resellers.find(this.tx.manager, resellerId))) throw ResellersErrors.resellerNotFound();
    return this.forReseller(this.tx.manager, resellerId, this.clock.now());
  }

  /**
   * GET /resellers: active resellers only (suspended and revoked ones are not listed), in id order,
   * each with its trust score and whether it takes orders right now.
   */
  async directory(q: PageQuery): Promise<Page<DirectoryEntryView>> {
    const limit = pageLimit(q);
    const key = decodeCursor(q.cursor, 1);
    const rows = await this.resellers
      .list(this.tx.manager, { status: 'active', after: key ? String(key[0]) : null, limit: limit + 1 })
      .catch(rethrowBadCursor);
    const now = this.clock.now();
    const cards = await this.many(
      this.tx.manager,
      rows.slice(0, limit).map((r) => r.userId),
      now,
    );
    const bonds = await Promise.all(rows.slice(0, limit).map((r) => this.ledger.balance(userAccount(r.userId, 'CREDIT', 'bond'))));
    const bondOf = new Map(rows.slice(0, limit).map((r, i) => [r.userId, bonds[i].posted]));
    return toPage(
      rows,
      limit,
      (r) => this.entry(r, cards.get(r.userId)!.trustScore, bondOf.get(r.userId) ?? 0n, now),
      (r) => [r.userId],
    );
  }

  private entry(r: Reseller, score: number, bond: bigint, now: Date): DirectoryEntryView {
    const standing = standingOf(r, now, this.config.resellers);
    return {
      id: r.userId,
      displayName: r.displayName,
      regions: r.regions,
      paymentMethods: r.paymentMethods,
      trustScore: score,
      status: 'active',
      takingOrders: standing.mayTakeOrders && bondCovered(bond, this.config.resellers),
      probation: standing.mayTakeOrders && standing.probation,
    };
  }

  private async many(db: EntityManager | DataSource, ids: string[], now: Date): Promise<Map<string, Scorecard>> {
    const days = this.config.resellers.scorecardDays;
    const from = addDays(now, -days);
    const stats = ids.length ? await this.orders.stats(db, ids, from, now) : new Map<string, OrderStats>();
    return new Map(ids.map((id) => [id, card(id, stats.get(id) ?? NO_ORDERS, days, from, now)]));
  }
}

function card(resellerId: string, s: OrderStats, windowDays: number, from: Date, to: Date): Scorecard {
  return {
    resellerId,
    windowDays,
    from: from.toISOString(),
    to: to.toISOString(),
    orders: s.orders,
    paid: s.paid,
    confirmed: s.confirmed,
    completionRate: ratio(s.confirmed, s.paid),
    medianConfirmSeconds: s.medianConfirmSeconds === null ? null : Math.round(s.medianConfirmSeconds),
    disputes: s.disputes,
    disputeRate: ratio(s.disputes, s.orders),
    disputesLost: s.disputesLost,
    disputesWon: s.disputesWon,
    lossRate: ratio(s.disputesLost, s.orders),
    cancellations: { byReseller: s.cancelledByReseller, byBuyer: s.cancelledByBuyer },
    expiries: s.expired,
    trustScore: trustScore(s),
  };
}

const NO_ORDERS: OrderStats = {
  orders: 0,
  paid: 0,
  confirmed: 0,
  disputes: 0,
  disputesLost: 0,
  disputesWon: 0,
  cancelledByReseller: 0,
  cancelledByBuyer: 0,
  expired: 0,
  medianConfirmSeconds: null,
};

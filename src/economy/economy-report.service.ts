import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock.service';
import { amountToJson } from '../common/money';
import { DAY_MS } from '../common/time';
import { AppConfig } from '../config/app-config';
import { TransactionRunner } from '../database/transaction-runner';
import { ASSETS, DebtFlows, LedgerService, SupplyReport } from '../ledger/ledger.service';
import type { BucketView, CentsView, EconomyReportView, IntervalView, SupplyView, TakeoverView } from './dto/economy-report.dto';
import { EconomyErrors } from './economy.errors';
import {
  EconomyReportRepository,
  EventKind,
  EventRow,
  GiftRow,
  OrderFactKind,
  OrderFactRow,
  TakeoverRow,
} from './economy-report.repository';
import { EconomyRollupRepository } from './economy-rollup.repository';
import { HarmBudgetsRepository, toBreachView } from './harm-budgets.repository';

export type ReportInterval = 'day' | 'week';
const STEP_SECONDS: Record<ReportInterval, number> = { day: 86_400, week: 7 * 86_400 };

/** The card networks' dispute monitoring lines, shown beside the chargeback rate. */
export const CARD_NETWORK_LINES = { visaRate: 0.009, visaDisputesPerMonth: 100, mastercardRate: 0.015 };

export interface ReportQuery {
  from: Date;
  to: Date;
  interval: ReportInterval;
  at?: Date;
}

/** An interval's (or the total's) order facts: n, amount and `within` per kind. */
type Facts = Map<OrderFactKind, { n: bigint; within: bigint }>;

/** All rows of one interval (or of the total: key `total`), gathered from the report's statements. */
interface Gathered {
  events: Map<EventKind, { n: bigint; amount: bigint; cents: Map<string, { n: bigint; cents: bigint }> }>;
  facts: Facts;
  gifts?: GiftRow;
  takeovers: TakeoverRow[];
  debt: { created: bigint; repaid: bigint; outstanding: bigint };
}

const SALE_KINDS = new Set<OrderFactKind>([
  'sale_credit',
  'sale_promo',
  'platform_fee',
  'earnings_accrued',
  'earnings_matured',
  'earnings_reversed',
]);

const TOTAL = 'total';
type Key = number | typeof TOTAL;
const keyOf = (bucket: number | null): Key => bucket ?? TOTAL;

const rate = (n: bigint | number, base: bigint | number): number | null => (Number(base) > 0 ? Number(n) / Number(base) : null);
const int = (v: bigint | string | undefined): number => amountToJson(v ?? 0n);

/**
 * The economy health report: money, the harm beside it, supply proven against the ledger, and the
 * relationships between buyers and creators, per interval of [from, to) and in total. Everything is read
 * from what the modules already record (EconomyReportRepository, one snapshot) and from the ledger
 * (LedgerService.supplyAt, debtFlows); nothing is kept by hand.
 */
@Injectable()
export class EconomyReportService {
  private readonly logger = new Logger(EconomyReportService.name);

  constructor(
    private readonly tx: TransactionRunner,
    private readonly repo: EconomyReportRepository,
    private readonly rollup: EconomyRollupRepository,
    private readonly ledger: LedgerService,
    private readonly breaches: HarmBudgetsRepository,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly dataSource: DataSource,
  ) {}

  check(q: ReportQuery): void {
    if (q.from.getTime() >= q.to.getTime()) throw EconomyErrors.rangeInvalid('from must be before to', 'from');
    const maxDays = this.config.economy.reportMaxDays;
    if (q.to.getTime() - q.from.getTime() > maxDays * DAY_MS)
      throw EconomyErrors.rangeInvalid(`the range is at most ${maxDays} days`, 'to');
  }

  async report(q: ReportQuery): Promise<EconomyReportView> {
    this.check(q);
    const step = STEP_SECONDS[q.interval];
    const count = Math.ceil((q.to.getTime() - q.from.getTime()) / (step * 1000));
    const read = await this.tx.run(
      async (em) => {
        await this.repo.readOnly(em);
        const rolledUntil = await this.rollup.exactUntil(em);
        return {
          events: await this.repo.events(em, q.from, q.to, step),
          orderFacts: await this.repo.orderFigures(em, q.from, q.to, step, rolledUntil),
          gifts: await this.repo.gifts(em, q.from, q.to, step, rolledUntil),
          takeovers: await this.repo.takeovers(em, q.from, q.to, step),
        };
      },
      { isolation: 'REPEATABLE READ' },
    );
    const debt = await this.ledger.debtFlows(q.from, q.to, step);
    const supply = await this.supply(q.at);
    const gathered = this.gather(count, read, debt);
    const interval = (key: Key, from: Date, to: Date): IntervalView => ({
      from: from.toISOString(),
      to: to.toISOString(),
      ...this.figures(gathered.get(key)!),
    });
    const intervals: IntervalView[] = [];
    for (let i = 0; i < count; i++) {
      const from = new Date(q.from.getTime() + i * step * 1000);
      const to = new Date(Math.min(from.getTime() + step * 1000, q.to.getTime()));
      intervals.push(interval(i, from, to));
    }
    return {
      from: q.from.toISOString(),
      to: q.to.toISOString(),
      interval: q.interval,
      generatedAt: this.clock.now().toISOString(),
      referenceLines: CARD_NETWORK_LINES,
      intervals,
      total: interval(TOTAL, q.from, q.to),
      supply,
      harmBudgets: { breaches: (await this.breaches.openBreaches(this.dataSource)).map(toBreachView) },
    };
  }

  /** The ledger's supply at `at` (or now), refused loudly when the postings disagree with the ledger's sums. */
  async supply(at?: Date): Promise<SupplyView> {
    const s: SupplyReport = await this.ledger.supplyAt(at);
    if (s.mismatches.length > 0) {
      this.logger.error({ mismatches: s.mismatches, at: at?.toISOString() ?? 'now' }, 'economy report: supply disagrees with the ledger');
      throw EconomyErrors.supplyMismatch(s.mismatches);
    }
    return {
      at: (at ?? this.clock.now()).toISOString(),
      checked: at
        ? 'every asset sums to zero over all accounts at this instant'
        : "equal, per account, to the ledger's balance rows in the same snapshot, and every asset sums to zero",
      assets: Object.fromEntries(
        ASSETS.map((a) => {
          const x = s.assets[a];
          return [
            a,
            {
              minted: int(x.minted),
              burned: int(x.burned),
              outstanding: int(x.outstanding),
              byAccount: Object.fromEntries(Object.entries(x.byAccount).map(([k, v]) => [k, int(v)])),
            },
          ];
        }),
      ) as unknown as SupplyView['assets'],
    };
  }

  private gather(
    count: number,
    read: { events: EventRow[]; orderFacts: OrderFactRow[]; gifts: GiftRow[]; takeovers: TakeoverRow[] },
    debt: DebtFlows,
  ): Map<Key, Gathered> {
    const all = new Map<Key, Gathered>();
    const blank = (): Gathered => ({
      events: new Map(),
      facts: new Map(),
      takeovers: [],
      debt: { created: 0n, repaid: 0n, outstanding: 0n },
    });
    // The sales and their lines are events of their interval like the others (the total sums them); the patterns are read per interval and in total.
    const sales = read.orderFacts
      .filter((r): r is OrderFactRow & { bucket: number; kind: EventKind } => r.bucket !== null && SALE_KINDS.has(r.kind))
      .map((r) => ({ bucket: r.bucket, kind: r.kind, currency: '', n: r.n, amount: r.amount }));
    for (let i = 0; i < count; i++) all.set(i, blank());
    all.set(TOTAL, blank());
    for (const r of [...read.events, ...sales]) {
      for (const g of [all.get(r.bucket), all.get(TOTAL)!]) {
        if (!g) continue;
        const e = g.events.get(r.kind) ?? { n: 0n, amount: 0n, cents: new Map() };
        e.n += BigInt(r.n);
        e.amount += BigInt(r.amount);
        if (r.currency) {
          const c = e.cents.get(r.currency) ?? { n: 0n, cents: 0n };
          e.cents.set(r.currency, { n: c.n + BigInt(r.n), cents: c.cents + BigInt(r.amount) });
        }
        g.events.set(r.kind, e);
      }
    }
    for (const r of read.orderFacts) all.get(keyOf(r.bucket))?.facts.set(r.kind, { n: BigInt(r.n), within: BigInt(r.within) });
    for (const r of read.gifts) if (all.has(keyOf(r.bucket))) all.get(keyOf(r.bucket))!.gifts = r;
    for (const r of read.takeovers) {
      all.get(r.bucket)?.takeovers.push(r);
      all.get(TOTAL)!.takeovers.push(r);
    }
    let outstanding = debt.opening;
    const total = all.get(TOTAL)!.debt;
    for (let i = 0; i < count; i++) {
      const flow = debt.intervals.get(i) ?? { created: 0n, repaid: 0n };
      outstanding += flow.created - flow.repaid;
      all.get(i)!.debt = { ...flow, outstanding };
      total.created += flow.created;
      total.repaid += flow.repaid;
    }
    total.outstanding = outstanding;
    return all;
  }

  private figures(g: Gathered): Omit<IntervalView, 'from' | 'to'> {
    const ev = (k: EventKind) => g.events.get(k) ?? { n: 0n, amount: 0n, cents: new Map<string, { n: bigint; cents: bigint }>() };
    const cents = (...kinds: EventKind[]): CentsView[] => {
      const out = new Map<string, { n: bigint; cents: bigint }>();
      for (const k of kinds)
        for (const [currency, c] of ev(k).cents) {
          const o = out.get(currency) ?? { n: 0n, cents: 0n };
          out.set(currency, { n: o.n + c.n, cents: o.cents + c.cents });
        }
      return [...out.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([currency, c]) => ({ currency, count: int(c.n), cents: int(c.cents) }));
    };
    const count = (k: EventKind) => ev(k).n;
    const amount = (k: EventKind) => ev(k).amount;
    const sales = count('sale_credit') + count('sale_promo');
    const settled = count('money_in_packages') + count('money_in_wholesale');
    const decided = count('review_approved') + count('review_rejected');
    const resellerOpened = count('reseller_opened');
    const fact = (k: OrderFactKind) => g.facts.get(k) ?? { n: 0n, within: 0n };
    const orbitSales = fact('sale_credit').n + fact('sale_promo').n;
    const returning = fact('pair_lag_1').n;
    // The pairs with at least m sales in the interval (orderFacts): m = 1, 2, 5.
    const [atLeast1, atLeast2, atLeast5] = [
      orbitSales - fact('pair_lag_1').within,
      fact('pair_lag_1').within - fact('pair_lag_2').within,
      fact('pair_lag_4').within - fact('pair_lag_5').within,
    ];
    const newBuyers = fact('new_buyer').n;
    const again = fact('again').n;
    const takeovers: TakeoverView[] = g.takeovers.map((t) => ({
      userId: t.user_id,
      labelledAt: t.labelled_at.toISOString(),
      firstSuspiciousAt: t.first_suspicious_at?.toISOString() ?? null,
      containedAt: t.contained_at?.toISOString() ?? null,
      secondsToContain:
        t.first_suspicious_at && t.contained_at ? Math.round((t.contained_at.getTime() - t.first_suspicious_at.getTime()) / 1000) : null,
    }));
    const times = takeovers.map((t) => t.secondsToContain).filter((s): s is number => s !== null);
    const bucket = (k: EventKind, base: bigint): BucketView => ({
      count: int(count(k)),
      amount: int(amount(k)),
      rate: rate(count(k), base),
    });
    const chargebacks = count('chargeback');
    return {
      money: {
        gmv: {
          CREDIT: { orders: int(count('sale_credit')), amount: int(amount('sale_credit')) },
          PROMO: { orders: int(count('sale_promo')), amount: int(amount('sale_promo')) },
        },
        moneyIn: { tokenPackages: cents('money_in_packages'), wholesale: cents('money_in_wholesale') },
        platformRevenue: int(amount('platform_fee') - amount('platform_fee_refunded')),
        creatorEarnings: { accrued: int(amount('earnings_accrued')), matured: int(amount('earnings_matured')) },
        creditsGifted: { count: int(count('credit_gift')), amount: int(amount('credit_gift')) },
      },
      harm: {
        orderRefunds: {
          count: int(count('order_refund_credit') + count('order_refund_promo')),
          amount: int(amount('order_refund_credit')),
          promoAmount: int(amount('order_refund_promo')),
          rate: rate(count('order_refund_credit') + count('order_refund_promo'), sales),
        },
        paymentRefunds: {
          count: int(count('payment_refund')),
          amounts: cents('payment_refund'),
          rate: rate(count('payment_refund'), settled),
        },
        chargebacks: {
          count: int(chargebacks),
          amounts: cents('chargeback'),
          settledPayments: int(settled),
          rate: rate(chargebacks, settled),
          lost: int(count('dispute_lost')),
          aboveVisaRate: settled > 0n && Number(chargebacks) / Number(settled) > CARD_NETWORK_LINES.visaRate,
          aboveMastercardRate: settled > 0n && Number(chargebacks) / Number(settled) > CARD_NETWORK_LINES.mastercardRate,
        },
        clawbackDebt: { created: int(g.debt.created), repaid: int(g.debt.repaid), outstanding: int(g.debt.outstanding) },
        fraud: {
          decisions: int(count('fraud_decision')),
          blocks: bucket('fraud_block', count('fraud_decision')),
          reviews: {
            opened: int(count('review_opened')),
            approved: int(count('review_approved')),
            rejected: int(count('review_rejected')),
            approvedShare: rate(count('review_approved'), decided),
          },
        },
        takeovers: {
          count: int(count('takeover')),
          medianSecondsToContain: times.length ? median(times) : null,
          items: takeovers,
        },
        ownerFreezes: { count: int(count('owner_freeze')) },
        resellerOrders: {
          opened: int(resellerOpened),
          disputed: bucket('reseller_disputed', resellerOpened),
          lost: bucket('reseller_lost', resellerOpened),
          paidFromBonds: { count: int(count('reseller_bond_paid')), amount: int(amount('reseller_bond_paid')) },
        },
        earningsReversed: {
          count: int(count('earnings_reversed')),
          amount: int(amount('earnings_reversed')),
          rate: rate(amount('earnings_reversed'), amount('earnings_accrued')),
        },
      },
      patterns: {
        sales: int(orbitSales),
        returningBuyerSales: int(returning),
        returningBuyerShare: rate(returning, orbitSales),
        orbits: { one: int(atLeast1 - atLeast2), twoToFour: int(atLeast2 - atLeast5), fivePlus: int(atLeast5) },
        newBuyers: { count: int(newBuyers), secondPurchaseWithin30Days: int(again), share: rate(again, newBuyers) },
        gifts: {
          count: int(g.gifts?.gifts),
          answered: int(g.gifts?.answered),
          reciprocity: rate(BigInt(g.gifts?.answered ?? 0), BigInt(g.gifts?.gifts ?? 0)),
        },
      },
    };
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { addDays, DAY_MS } from '../common/time';
import { queryRows } from '../database/sql';
import { orderFacts, SOLD } from './economy-rollup.repository';

type Db = DataSource | EntityManager;

/** The start of the interval `col` falls in (date_bin: integer arithmetic, cheap per row). */
const BIN = (col: string) => `date_bin($3::int * interval '1 second', ${col}, $1::timestamptz)`;
/** An interval start as its index from `from` (on aggregated rows only). */
const INDEX = (bin: string) => `(floor(extract(epoch FROM ${bin} - $1::timestamptz) / $3))::int`;
/** The interval index of `col` (per row: for the few rows of takeovers and such). */
const BUCKET = (col: string) => INDEX(BIN(col));
const IN_RANGE = (col: string) => `${col} >= $1 AND ${col} < $2`;

/** One counted kind of event in an interval: how many and their sum (credits, or cents of `currency`); additive, so the total is their sum. */
export interface EventRow {
  bucket: number;
  kind: EventKind;
  currency: string;
  n: string;
  amount: string;
}

export type EventKind =
  | SaleKind
  | 'order_refund_credit'
  | 'order_refund_promo'
  | 'platform_fee_refunded'
  | 'credit_gift'
  | 'money_in_packages'
  | 'money_in_wholesale'
  | 'payment_refund'
  | 'chargeback'
  | 'dispute_lost'
  | 'fraud_decision'
  | 'fraud_block'
  | 'review_opened'
  | 'review_approved'
  | 'review_rejected'
  | 'takeover'
  | 'owner_freeze'
  | 'reseller_opened'
  | 'reseller_disputed'
  | 'reseller_lost'
  | 'reseller_bond_paid';

/** Each source aggregated per interval first (one pass over each range), then the few rows unioned. */
const EVENTS = `
  WITH refunded AS (
    SELECT ${BIN('o.refunded_at')} AS b, o.pay_with, count(*) AS n, sum(o.price) AS price, sum(o.platform_fee) AS fee
      FROM orders o WHERE ${IN_RANGE('o.refunded_at')} GROUP BY 1, 2
  ), ev (b, kind, currency, n, amount) AS (
    SELECT b, CASE WHEN pay_with = 'CREDIT' THEN 'order_refund_credit' ELSE 'order_refund_promo' END, '', n, price FROM refunded
    UNION ALL
    SELECT b, 'platform_fee_refunded', '', n, fee FROM refunded WHERE pay_with = 'CREDIT'
    UNION ALL
    SELECT ${BIN('t.created_at')}, 'credit_gift', '', count(*), sum(t.amount)
      FROM credit_transfers t WHERE t.status = 'completed' AND ${IN_RANGE('t.created_at')} GROUP BY 1
    UNION ALL
    SELECT ${BIN('p.paid_at')}, CASE WHEN p.destination = 'wallet' THEN 'money_in_packages' ELSE 'money_in_wholesale' END, p.currency,
           count(*), sum(p.price_cents)
      FROM token_purchases p WHERE p.fraud_refusal IS NULL AND ${IN_RANGE('p.paid_at')} GROUP BY 1, 2, 3
    UNION ALL
    SELECT ${BIN('p.updated_at')}, 'payment_refund', p.currency, count(*), sum(p.refunded_cents)
      FROM token_purchases p WHERE p.status = 'refunded' AND ${IN_RANGE('p.updated_at')} GROUP BY 1, 3
    UNION ALL
    SELECT ${BIN('l.occurred_at')}, l.kind, p.currency, count(*), sum(p.price_cents)
      FROM fraud_labels l JOIN token_purchases p ON p.id::text = l.subject_id
     WHERE l.kind IN ('chargeback', 'dispute_lost') AND ${IN_RANGE('l.occurred_at')} GROUP BY 1, 2, 3
    UNION ALL
    SELECT b, k.kind, '', sum(n), sum(amount)
      FROM (SELECT ${BIN('d.created_at')} AS b, d.outcome = 'BLOCK' AS blocked, count(*) AS n, coalesce(sum(d.amount), 0) AS amount
              FROM fraud_decisions d WHERE ${IN_RANGE('d.created_at')} GROUP BY 1, 2) d
     CROSS JOIN LATERAL (VALUES ('fraud_decision'), (CASE WHEN d.blocked THEN 'fraud_block' END)) k (kind)
     WHERE k.kind IS NOT NULL GROUP BY 1, 2
    UNION ALL
    SELECT ${BIN('r.created_at')}, 'review_opened', '', count(*), 0 FROM fraud_reviews r WHERE ${IN_RANGE('r.created_at')} GROUP BY 1
    UNION ALL
    SELECT ${BIN('r.decided_at')}, 'review_' || r.status, '', count(*), 0 FROM fraud_reviews r WHERE ${IN_RANGE('r.decided_at')} GROUP BY 1, 2
    UNION ALL
    SELECT ${BIN('l.occurred_at')}, 'takeover', '', count(*), 0
      FROM fraud_labels l WHERE l.kind = 'confirmed_takeover' AND ${IN_RANGE('l.occurred_at')} GROUP BY 1
    UNION ALL
    SELECT ${BIN('e.occurred_at')}, 'owner_freeze', '', count(*), 0
      FROM security_events e WHERE e.kind = 'account_frozen' AND ${IN_RANGE('e.occurred_at')} GROUP BY 1
    UNION ALL
    SELECT ${BIN('r.opened_at')}, 'reseller_opened', '', count(*), sum(r.amount) FROM reseller_orders r WHERE ${IN_RANGE('r.opened_at')} GROUP BY 1
    UNION ALL
    SELECT ${BIN('r.disputed_at')}, 'reseller_disputed', '', count(*), sum(r.amount)
      FROM reseller_orders r WHERE ${IN_RANGE('r.disputed_at')} GROUP BY 1
    UNION ALL
    SELECT ${BIN('r.closed_at')}, 'reseller_lost', '', count(*), sum(r.amount)
      FROM reseller_orders r WHERE r.status = 'resolved_buyer' AND ${IN_RANGE('r.closed_at')} GROUP BY 1
    UNION ALL
    SELECT ${BIN('r.closed_at')}, 'reseller_bond_paid', '', count(*), sum(r.bond_paid)
      FROM reseller_orders r WHERE r.status = 'resolved_buyer' AND r.bond_paid > 0 AND ${IN_RANGE('r.closed_at')} GROUP BY 1
  )
  SELECT ${INDEX('b')} AS bucket, kind, currency, n::text AS n, coalesce(amount, 0)::text AS amount FROM ev`;

/**
 * The order figures of an interval (bucket null: the total over [from, to)) by fact kind (orderFacts):
 * `n` and `amount` summed, `within` the facts whose `ref` is at or after the interval's start.
 */
export interface OrderFactRow {
  bucket: number | null;
  kind: OrderFactKind;
  n: string;
  amount: string;
  within: string;
}

export type SaleKind = 'sale_credit' | 'sale_promo' | 'platform_fee' | 'earnings_accrued' | 'earnings_matured' | 'earnings_reversed';

export type OrderFactKind = SaleKind | 'pair_lag_1' | 'pair_lag_2' | 'pair_lag_4' | 'pair_lag_5' | 'new_buyer' | 'again';

/** A fact's interval: its sale's, or for `again` the first purchase's (its ref). */
const FACT_AT = `CASE WHEN kind = 'again' THEN ref ELSE day END`;

/**
 * The rolled-up facts (when $6) and those of the sales in [$4, $5) read live, at their exact times,
 * attributed to the intervals. A second purchase within 30 days of a first in the range may come
 * after it: the live part runs to 30 days past `to`.
 */
const ORDER_FIGURES = `
  WITH live AS (${orderFacts('$4::timestamptz', '$5::timestamptz', '$2::timestamptz', false)}
  ), x (at, kind, ref, n, amount) AS (
    SELECT ${FACT_AT}, kind, ref, n, amount FROM economy_order_facts WHERE $6::boolean AND day < $4 AND ${IN_RANGE(FACT_AT)}
    UNION ALL
    SELECT ${FACT_AT}, kind, ref, n, amount FROM live
  ), y AS (
    SELECT ${BIN('at')} AS b, kind, ref, n, amount FROM x WHERE ${IN_RANGE('at')}
  )
  SELECT ${INDEX('b')} AS bucket, kind, sum(n)::text AS n, sum(amount)::text AS amount,
         coalesce(sum(n) FILTER (WHERE ref >= b), 0)::text AS within
    FROM y GROUP BY b, kind
  UNION ALL
  SELECT NULL, kind, sum(n)::text, sum(amount)::text, coalesce(sum(n) FILTER (WHERE ref >= $1), 0)::text FROM y GROUP BY kind`;

/** Gifts (completed credit transfers, items bought for someone else) sent in an interval, and those answered by a gift back within 30 days. */
export interface GiftRow {
  bucket: number | null;
  gifts: string;
  answered: string;
}

const GIFTS = `
  WITH g AS MATERIALIZED (
    SELECT t.id, t.from_user_id AS giver, t.to_user_id AS receiver, t.created_at AS at FROM credit_transfers t
     WHERE t.status = 'completed' AND t.created_at >= $1 AND t.created_at < $2::timestamptz + interval '30 days'
    UNION ALL
    -- item gifts: rolled up before $4, read from the orders after
    SELECT i.order_id, i.giver, i.receiver, i.at FROM economy_item_gifts i
     WHERE $4::timestamptz IS NOT NULL AND i.at >= $1 AND i.at < least($2::timestamptz + interval '30 days', $4::timestamptz)
    UNION ALL
    SELECT o.id, o.buyer_id, o.owner_id, o.created_at FROM orders o
     WHERE o.owner_id <> o.buyer_id AND o.${SOLD} AND o.created_at >= greatest($1, coalesce($4::timestamptz, '-infinity'))
       AND o.created_at < $2::timestamptz + interval '30 days'
  ), sent AS (
    SELECT g.id, g.at, bool_or(r.id IS NOT NULL) AS answered
      FROM g LEFT JOIN g r ON r.giver = g.receiver AND r.receiver = g.giver AND r.at > g.at AND r.at <= g.at + interval '30 days'
     WHERE g.at < $2
     GROUP BY g.id, g.at
  )
  SELECT ${INDEX('b')} AS bucket, count(*)::text AS gifts, count(*) FILTER (WHERE answered)::text AS answered
    FROM (SELECT ${BIN('at')} AS b, answered FROM sent) x
   GROUP BY GROUPING SETS ((b), ())`;

/** Security events that may announce a takeover (the first of them in 30 days before the label starts the clock). */
export const SUSPICIOUS_EVENTS = [
  'new_device_login',
  'step_up_required',
  'account_locked',
  'password_changed',
  'password_reset',
  'email_changed',
  'totp_disabled',
  'refresh_token_reuse',
];

/** A confirmed takeover labelled in the range, with its first suspicious event and the freeze or hold after it. */
export interface TakeoverRow {
  bucket: number;
  user_id: string;
  labelled_at: Date;
  first_suspicious_at: Date | null;
  contained_at: Date | null;
}

const TAKEOVERS = `
  SELECT ${BUCKET('l.occurred_at')} AS bucket, l.user_id, l.occurred_at AS labelled_at, fs.first_at AS first_suspicious_at,
         (SELECT min(c.occurred_at) FROM security_events c
           WHERE c.user_id = l.user_id AND c.kind IN ('account_frozen', 'account_held') AND c.occurred_at >= fs.first_at) AS contained_at
    FROM fraud_labels l
    LEFT JOIN LATERAL (SELECT min(s.occurred_at) AS first_at FROM security_events s
                        WHERE s.user_id = l.user_id AND s.kind = ANY ($4::text[])
                          AND s.occurred_at <= l.occurred_at AND s.occurred_at > l.occurred_at - interval '30 days') fs ON true
   WHERE l.kind = 'confirmed_takeover' AND ${IN_RANGE('l.occurred_at')}
   ORDER BY l.occurred_at, l.seq`;

/** The rates the harm budgets watch, over one window. */
export interface HarmRatesRow {
  settled_payments: string;
  chargebacks: string;
  reseller_orders: string;
  reseller_lost: string;
  reviews_decided: string;
  reviews_approved: string;
  gmv_credit: string;
  gmv_promo: string;
}

/**
 * The economy report's read model: read-only SQL over what other modules record (orders, sale lines,
 * token purchases, credit transfers, fraud decisions, reviews and labels, security
 * events, reseller orders). It never writes there and never reads a ledger table (LedgerService does).
 * Every statement takes `$1` from, `$2` to and `$3` the interval in seconds; `bucket` is the interval's
 * index from `from`, null for the total over [from, to) where a total is not a sum of the intervals.
 */
@Injectable()
export class EconomyReportRepository {
  /** Takes the caller's transaction read-only (the report reads one REPEATABLE READ snapshot). */
  async readOnly(em: EntityManager): Promise<void> {
    await queryRows(em, 'SET TRANSACTION READ ONLY');
  }

  events(db: Db, from: Date, to: Date, stepSeconds: number): Promise<EventRow[]> {
    return queryRows<EventRow>(db, EVENTS, [from, to, stepSeconds]);
  }

  /**
   * The order figures (ORDER_FIGURES), the facts before `rolledUntil` (where the rollup is exact) from the
   * rollup. Its facts are counted per UTC day: intervals from a UTC midnight read the whole days before `to`
   * from it and the rest live; intervals from any other time straddle two days each and read the orders live.
   */
  orderFigures(db: Db, from: Date, to: Date, stepSeconds: number, rolledUntil: Date | null): Promise<OrderFactRow[]> {
    const days =
      rolledUntil && from.getTime() % DAY_MS === 0 ? Math.min(rolledUntil.getTime(), to.getTime() - (to.getTime() % DAY_MS)) : null;
    const live = days !== null && days > from.getTime() ? new Date(days) : from;
    return queryRows<OrderFactRow>(db, ORDER_FIGURES, [from, to, stepSeconds, live, addDays(to, 30), days !== null]);
  }

  /** The gifts (GIFTS), the item gifts before `rolledUntil` from the rollup. */
  gifts(db: Db, from: Date, to: Date, stepSeconds: number, rolledUntil: Date | null): Promise<GiftRow[]> {
    return queryRows<GiftRow>(db, GIFTS, [from, to, stepSeconds, rolledUntil]);
  }

  takeovers(db: Db, from: Date, to: Date, stepSeconds: number): Promise<TakeoverRow[]> {
    return queryRows<TakeoverRow>(db, TAKEOVERS, [from, to, stepSeconds, SUSPICIOUS_EVENTS]);
  }

  /**
   * The harm budgets' counts over [from, to): chargebacks per settled payment, reseller orders lost per
   * opened, reviews approved per decided; and the GMV of the window (the job's gauges).
   */
  async harmRates(db: Db, from: Date, to: Date): Promise<HarmRatesRow> {
    const [row] = await queryRows<HarmRatesRow>(
      db,
      `SELECT (SELECT count(*) FROM token_purchases p WHERE p.fraud_refusal IS NULL AND ${IN_RANGE('p.paid_at')})::text AS settled_payments,
              (SELECT count(*) FROM fraud_labels l WHERE l.kind = 'chargeback' AND ${IN_RANGE('l.occurred_at')})::text AS chargebacks,
              (SELECT count(*) FROM reseller_orders r WHERE ${IN_RANGE('r.opened_at')})::text AS reseller_orders,
              (SELECT count(*) FROM reseller_orders r WHERE r.status = 'resolved_buyer' AND ${IN_RANGE('r.closed_at')})::text AS reseller_lost,
              (SELECT count(*) FROM fraud_reviews r WHERE ${IN_RANGE('r.decided_at')})::text AS reviews_decided,
              (SELECT count(*) FROM fraud_reviews r WHERE r.status = 'approved' AND ${IN_RANGE('r.decided_at')})::text AS reviews_approved,
              g.credit::text AS gmv_credit, g.promo::text AS gmv_promo
         FROM (SELECT coalesce(sum(o.price) FILTER (WHERE o.pay_with = 'CREDIT'), 0) AS credit,
                      coalesce(sum(o.price) FILTER (WHERE o.pay_with = 'PROMO'), 0) AS promo
                 FROM orders o WHERE o.${SOLD} AND ${IN_RANGE('o.created_at')}) g`,
      [from, to],
    );
    return row;
  }
}

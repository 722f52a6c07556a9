import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';

type Db = DataSource | EntityManager;

/**
 * The economy report's read model: read-only SQL over what other modules record (orders, sale lines,
 * token purchases, credit transfers, fraud decisions, reviews and labels, security
 * events, reseller orders). It never writes there and never reads a ledger table (LedgerService does).
 * Every statement takes `$1` from, `$2` to and `$3` the interval in seconds; `bucket` is the interval's
 * index from `from`, null for the total over [from, to) (GROUPING SETS).
 */
const BUCKET = (col: string) => `floor(extract(epoch FROM ${col} - $1::timestamptz) / $3)::int`;
const IN_RANGE = (col: string) => `${col} >= $1 AND ${col} < $2`;
const SOLD = `status IN ('completed', 'refunded')`;

/** One counted kind of event in an interval: how many and their sum (credits, or cents of `currency`). */
export interface EventRow {
  bucket: number | null;
  kind: EventKind;
  currency: string;
  n: string;
  amount: string;
}

export type EventKind =
  | 'sale_credit'
  | 'sale_promo'
  | 'platform_fee'
  | 'order_refund_credit'
  | 'order_refund_promo'
  | 'platform_fee_refunded'
  | 'earnings_accrued'
  | 'earnings_matured'
  | 'earnings_reversed'
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

const EVENTS = `
  WITH ev (kind, ts, currency, amount) AS (
    SELECT CASE WHEN o.pay_with = 'CREDIT' THEN 'sale_credit' ELSE 'sale_promo' END, o.created_at, '', o.price
      FROM orders o WHERE o.${SOLD} AND ${IN_RANGE('o.created_at')}
    UNION ALL
    SELECT 'platform_fee', o.created_at, '', o.platform_fee
      FROM orders o WHERE o.${SOLD} AND o.pay_with = 'CREDIT' AND ${IN_RANGE('o.created_at')}
    UNION ALL
    SELECT CASE WHEN o.pay_with = 'CREDIT' THEN 'order_refund_credit' ELSE 'order_refund_promo' END, o.refunded_at, '', o.price
      FROM orders o WHERE ${IN_RANGE('o.refunded_at')}
    UNION ALL
    SELECT 'platform_fee_refunded', o.refunded_at, '', o.platform_fee
      FROM orders o WHERE o.pay_with = 'CREDIT' AND ${IN_RANGE('o.refunded_at')}
    UNION ALL
    SELECT 'earnings_accrued', s.created_at, '', s.amount FROM sale_earnings s WHERE s.asset = 'CREDIT' AND ${IN_RANGE('s.created_at')}
    UNION ALL
    SELECT 'earnings_matured', s.matured_at, '', s.amount FROM sale_earnings s WHERE s.asset = 'CREDIT' AND ${IN_RANGE('s.matured_at')}
    UNION ALL
    SELECT 'earnings_reversed', s.reversed_at, '', s.amount FROM sale_earnings s WHERE s.asset = 'CREDIT' AND ${IN_RANGE('s.reversed_at')}
    UNION ALL
    SELECT 'credit_gift', t.created_at, '', t.amount FROM credit_transfers t WHERE t.status = 'completed' AND ${IN_RANGE('t.created_at')}
    UNION ALL
    SELECT CASE WHEN p.destination = 'wallet' THEN 'money_in_packages' ELSE 'money_in_wholesale' END, p.paid_at, p.currency, p.price_cents
      FROM token_purchases p WHERE p.fraud_refusal IS NULL AND ${IN_RANGE('p.paid_at')}
    UNION ALL
    SELECT 'payment_refund', p.updated_at, p.currency, p.refunded_cents
      FROM token_purchases p WHERE p.status = 'refunded' AND ${IN_RANGE('p.updated_at')}
    UNION ALL
    SELECT l.kind, l.occurred_at, p.currency, p.price_cents
      FROM fraud_labels l JOIN token_purchases p ON p.id::text = l.subject_id
     WHERE l.kind IN ('chargeback', 'dispute_lost') AND ${IN_RANGE('l.occurred_at')}
    UNION ALL
    SELECT 'fraud_decision', d.created_at, '', coalesce(d.amount, 0) FROM fraud_decisions d WHERE ${IN_RANGE('d.created_at')}
    UNION ALL
    SELECT 'fraud_block', d.created_at, '', coalesce(d.amount, 0) FROM fraud_decisions d WHERE d.outcome = 'BLOCK' AND ${IN_RANGE('d.created_at')}
    UNION ALL
    SELECT 'review_opened', r.created_at, '', 0 FROM fraud_reviews r WHERE ${IN_RANGE('r.created_at')}
    UNION ALL
    SELECT 'review_' || r.status, r.decided_at, '', 0 FROM fraud_reviews r WHERE ${IN_RANGE('r.decided_at')}
    UNION ALL
    SELECT 'takeover', l.occurred_at, '', 0 FROM fraud_labels l WHERE l.kind = 'confirmed_takeover' AND ${IN_RANGE('l.occurred_at')}
    UNION ALL
    SELECT 'owner_freeze', e.occurred_at, '', 0 FROM security_events e WHERE e.kind = 'account_frozen' AND ${IN_RANGE('e.occurred_at')}
    UNION ALL
    SELECT 'reseller_opened', r.opened_at, '', r.amount FROM reseller_orders r WHERE ${IN_RANGE('r.opened_at')}
    UNION ALL
    SELECT 'reseller_disputed', r.disputed_at, '', r.amount FROM reseller_orders r WHERE ${IN_RANGE('r.disputed_at')}
    UNION ALL
    SELECT 'reseller_lost', r.closed_at, '', r.amount FROM reseller_orders r WHERE r.status = 'resolved_buyer' AND ${IN_RANGE('r.closed_at')}
    UNION ALL
    SELECT 'reseller_bond_paid', r.closed_at, '', r.bond_paid
      FROM reseller_orders r WHERE r.status = 'resolved_buyer' AND r.bond_paid > 0 AND ${IN_RANGE('r.closed_at')}
  )
  SELECT b AS bucket, kind, currency, count(*)::text AS n, coalesce(sum(amount), 0)::text AS amount
    FROM (SELECT ev.*, ${BUCKET('ev.ts')} AS b FROM ev) x
   GROUP BY GROUPING SETS ((b, kind, currency), (kind, currency))`;

/** Sales by buyer-creator pairs in an interval: the pairs with 1, 2-4 and 5+ sales, and the pairs' first-ever sales in it. */
export interface OrbitRow {
  bucket: number | null;
  sales: string;
  one: string;
  two_to_four: string;
  five_plus: string;
  first_sales: string;
}

const ORBITS = `
  WITH s AS MATERIALIZED (
    SELECT o.buyer_id, o.seller_id, ${BUCKET('o.created_at')} AS b FROM orders o WHERE o.${SOLD} AND ${IN_RANGE('o.created_at')}
  ), pairs AS (
    SELECT b, count(*) AS n FROM s GROUP BY GROUPING SETS ((b, seller_id, buyer_id), (seller_id, buyer_id))
  ), orbits AS (
    SELECT b, sum(n) AS sales, count(*) FILTER (WHERE n = 1) AS one, count(*) FILTER (WHERE n BETWEEN 2 AND 4) AS two_to_four,
           count(*) FILTER (WHERE n >= 5) AS five_plus
      FROM pairs GROUP BY b
  ), firsts AS (
    SELECT ${BUCKET('f.first_at')} AS b
      FROM (SELECT (SELECT min(p.created_at) FROM orders p
                     WHERE p.buyer_id = d.buyer_id AND p.seller_id = d.seller_id AND p.${SOLD}) AS first_at
              FROM (SELECT DISTINCT buyer_id, seller_id FROM s) d) f
     WHERE f.first_at >= $1
  ), first_counts AS (
    SELECT b, count(*) AS n FROM firsts GROUP BY GROUPING SETS ((b), ())
  )
  SELECT o.b AS bucket, o.sales::text AS sales, o.one::text AS one, o.two_to_four::text AS two_to_four, o.five_plus::text AS five_plus,
         coalesce(f.n, 0)::text AS first_sales
    FROM orbits o LEFT JOIN first_counts f ON f.b IS NOT DISTINCT FROM o.b`;

/** Buyers whose first purchase falls in an interval, and how many of them bought again within 30 days of it. */
export interface NewBuyerRow {
  bucket: number | null;
  new_buyers: string;
  again: string;
}

const NEW_BUYERS = `
  SELECT b AS bucket, count(*)::text AS new_buyers, count(*) FILTER (WHERE again)::text AS again
    FROM (SELECT ${BUCKET('f.first_at')} AS b,
                 (SELECT count(*) FROM orders o
                   WHERE o.buyer_id = f.buyer_id AND o.${SOLD}
                     AND o.created_at >= f.first_at AND o.created_at <= f.first_at + interval '30 days') >= 2 AS again
            FROM (SELECT o.buyer_id, min(o.created_at) AS first_at FROM orders o
                   WHERE o.${SOLD} AND o.buyer_id IN (SELECT w.buyer_id FROM orders w WHERE w.${SOLD} AND ${IN_RANGE('w.created_at')})
                   GROUP BY o.buyer_id HAVING min(o.created_at) >= $1) f) x
   GROUP BY GROUPING SETS ((b), ())`;

/** Gifts (completed credit transfers, items bought for someone else) sent in an interval, and those answered by a gift back within 30 days. */
export interface GiftRow {
  bucket: number | null;
  gifts: string;
  answered: string;
}

const ANSWERED = (giver: string, receiver: string, at: string) => `(
  EXISTS (SELECT 1 FROM credit_transfers r WHERE r.from_user_id = ${receiver} AND r.to_user_id = ${giver} AND r.status = 'completed'
             AND r.created_at > ${at} AND r.created_at <= ${at} + interval '30 days')
  OR EXISTS (SELECT 1 FROM orders r WHERE r.buyer_id = ${receiver} AND r.owner_id = ${giver} AND r.${SOLD}
                AND r.created_at > ${at} AND r.created_at <= ${at} + interval '30 days'))`;

const GIFTS = `
  SELECT b AS bucket, count(*)::text AS gifts, count(*) FILTER (WHERE answered)::text AS answered
    FROM (SELECT ${BUCKET('g.at')} AS b, ${ANSWERED('g.giver', 'g.receiver', 'g.at')} AS answered
            FROM (SELECT t.from_user_id AS giver, t.to_user_id AS receiver, t.created_at AS at FROM credit_transfers t
                   WHERE t.status = 'completed' AND ${IN_RANGE('t.created_at')}
                  UNION ALL
                  SELECT o.buyer_id, o.owner_id, o.created_at FROM orders o
                   WHERE o.owner_id <> o.buyer_id AND o.${SOLD} AND ${IN_RANGE('o.created_at')}) g) x
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

@Injectable()
export class EconomyReportRepository {
  /** Takes the caller's transaction read-only (the report reads one REPEATABLE READ snapshot). */
  async readOnly(em: EntityManager): Promise<void> {
    await queryRows(em, 'SET TRANSACTION READ ONLY');
  }

  events(db: Db, from: Date, to: Date, stepSeconds: number): Promise<EventRow[]> {
    return queryRows<EventRow>(db, EVENTS, [from, to, stepSeconds]);
  }

  orbits(db: Db, from: Date, to: Date, stepSeconds: number): Promise<OrbitRow[]> {
    return queryRows<OrbitRow>(db, ORBITS, [from, to, stepSeconds]);
  }

  newBuyers(db: Db, from: Date, to: Date, stepSeconds: number): Promise<NewBuyerRow[]> {
    return queryRows<NewBuyerRow>(db, NEW_BUYERS, [from, to, stepSeconds]);
  }

  gifts(db: Db, from: Date, to: Date, stepSeconds: number): Promise<GiftRow[]> {
    return queryRows<GiftRow>(db, GIFTS, [from, to, stepSeconds]);
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

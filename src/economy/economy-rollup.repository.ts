import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';

export const SOLD = `status IN ('completed', 'refunded')`;

/** The start of `col`'s UTC day. */
const DAY = (col: string) => `date_bin(interval '86400 seconds', ${col}, timestamptz '2000-01-01 00:00:00+00')`;

/**
 * The facts of the sales (orders `completed` or later `refunded`) created in [lo, hi), and of their
 * sale lines, counted per
 * (day, kind, ref) per UTC day when `daily` (the rollup), else one row per fact at its exact times (the report's live part).
 * `day` is the sale's time; for every kind but `again`, only sales before `end` count:
 * - `sale_credit`, `sale_promo` (n, amount: the prices) and `platform_fee` (amount: the CREDIT markups);
 * - `earnings_accrued`, `earnings_matured`, `earnings_reversed`: the creators' CREDIT shares (sale lines)
 *   created, matured and reversed then (`day` is that time);
 * - `pair_lag_<k>` (k = 1, 2, 4, 5): `ref` is the time of the buyer-creator pair's k-th sale before this
 *   one (none: no row). Over a window starting at A, the pairs with at least m sales in it are the sales
 *   in it whose (m-1)-th previous one is at or after A, less those whose m-th is: the orbits;
 * - `new_buyer`: the buyer's first purchase ever; `again`: the buyer's second, within 30 days of the
 *   first, whose time is `ref` (the figure belongs to the first's interval).
 * `lo`, `hi` and `end` are the statement's placeholders.
 */
export const orderFacts = (lo: string, hi: string, end: string, daily: boolean): string => `
  WITH o AS MATERIALIZED (
    SELECT o.buyer_id, o.seller_id, o.created_at, o.pay_with, o.price, o.platform_fee
      FROM orders o WHERE o.${SOLD} AND o.created_at >= ${lo} AND o.created_at < ${hi}
  ), hist AS (
    -- the sales of the range's pairs in pair order (the pair index), each with its pair's earlier sales
    SELECT p.created_at, lag(p.created_at, 1) OVER w AS s1, lag(p.created_at, 2) OVER w AS s2, lag(p.created_at, 4) OVER w AS s4,
           lag(p.created_at, 5) OVER w AS s5
      FROM orders p
     WHERE p.${SOLD} AND p.created_at < ${end}
       AND EXISTS (SELECT 1 FROM o WHERE o.buyer_id = p.buyer_id AND o.seller_id = p.seller_id AND o.created_at < ${end})
    WINDOW w AS (PARTITION BY p.buyer_id, p.seller_id ORDER BY p.created_at)
  ), firsts AS (
    -- each buyer's first two purchases ever (a few index entries per buyer)
    SELECT f.ats[1] AS first_at, f.ats[2] AS second_at FROM (SELECT DISTINCT buyer_id FROM o) b
     CROSS JOIN LATERAL (SELECT array_agg(x.created_at ORDER BY x.created_at) AS ats
                           FROM (SELECT q.created_at FROM orders q WHERE q.buyer_id = b.buyer_id AND q.${SOLD}
                                  ORDER BY q.created_at LIMIT 2) x) f
  ), facts (at, kind, ref, amount) AS (
    SELECT o.created_at, CASE WHEN o.pay_with = 'CREDIT' THEN 'sale_credit' ELSE 'sale_promo' END, o.created_at, o.price
      FROM o WHERE o.created_at < ${end}
    UNION ALL
    SELECT o.created_at, 'platform_fee', o.created_at, o.platform_fee FROM o WHERE o.pay_with = 'CREDIT' AND o.created_at < ${end}
    UNION ALL
    SELECT h.created_at, 'pair_lag_' || l.k, l.at, 0
      FROM hist h CROSS JOIN LATERAL (VALUES (1, h.s1), (2, h.s2), (4, h.s4), (5, h.s5)) l (k, at)
     WHERE h.created_at >= ${lo} AND h.s1 IS NOT NULL AND l.at IS NOT NULL
    UNION ALL
    SELECT first_at, 'new_buyer', first_at, 0 FROM firsts WHERE first_at >= ${lo} AND first_at < ${end}
    UNION ALL
    SELECT second_at, 'again', first_at, 0 FROM firsts
     WHERE second_at >= ${lo} AND second_at < ${hi} AND second_at <= first_at + interval '30 days'
    UNION ALL
    SELECT s.created_at, 'earnings_accrued', s.created_at, s.amount FROM sale_earnings s
     WHERE s.asset = 'CREDIT' AND s.created_at >= ${lo} AND s.created_at < ${end}
    UNION ALL
    SELECT s.matured_at, 'earnings_matured', s.matured_at, s.amount FROM sale_earnings s
     WHERE s.asset = 'CREDIT' AND s.matured_at >= ${lo} AND s.matured_at < ${end}
    UNION ALL
    SELECT s.reversed_at, 'earnings_reversed', s.reversed_at, s.amount FROM sale_earnings s
     WHERE s.asset = 'CREDIT' AND s.reversed_at >= ${lo} AND s.reversed_at < ${end}
  )
  ${
    daily
      ? `SELECT ${DAY('at')} AS day, kind, ${DAY('ref')} AS ref, count(*) AS n, sum(amount) AS amount FROM facts GROUP BY 1, 2, 3`
      : 'SELECT at AS day, kind, ref, 1 AS n, amount FROM facts'
  }`;

/**
 * The economy report's rollup of the orders: `economy_order_facts` holds the facts (orderFacts) of the
 * sales created before `economy_rollup_state.orders_until`, per UTC day, and `economy_item_gifts` their
 * item gifts. Only the economy module
 * writes these tables; the orders are only read.
 */
@Injectable()
export class EconomyRollupRepository {
  /** Where the rollup ends (null: nothing rolled up); `lock`: the state row locked, one rollup run at a time. */
  async until(em: EntityManager, lock = false): Promise<Date | null> {
    const [row] = await queryRows<{ orders_until: Date | null }>(
      em,
      `SELECT orders_until FROM economy_rollup_state${lock ? ' FOR UPDATE' : ''}`,
    );
    return row.orders_until;
  }

  /** Whether the rollup holds no fact at all (lost, or nothing sold before its watermark). */
  async empty(em: EntityManager): Promise<boolean> {
    const [row] = await queryRows<{ empty: boolean }>(em, `SELECT NOT EXISTS (SELECT 1 FROM economy_order_facts) AS empty`);
    return row.empty;
  }

  /**
   * The start of the UTC day of the earliest sale created before `until` whose review was decided at or
   * after `until` (a held order approved since: its facts, and those of its pair's and buyer's later
   * sales, may not be in the rollup); null if none. Decisions before `until` were visible to the run
   * that set it (they commit well within SALES_SETTLED_MS of reading the clock).
   */
  async changedSince(em: EntityManager, until: Date): Promise<Date | null> {
    const [row] = await queryRows<{ day: Date | null }>(
      em,
      `SELECT ${DAY('min(o.created_at)')} AS day
         FROM fraud_reviews r
        CROSS JOIN LATERAL (SELECT o.created_at FROM orders o
                             WHERE o.id = CASE WHEN r.event_type = 'item_purchase' THEN r.subject_id::uuid END
                               AND o.${SOLD} AND o.created_at < $1) o
        WHERE r.decided_at >= $1 AND r.event_type = 'item_purchase'`,
      [until],
    );
    return row.day;
  }

  /**
   * Where the rollup is exact in the caller's snapshot: its watermark, or the day of a sale approved since
   * (changedSince); null when nothing is rolled up or the facts were lost.
   */
  async exactUntil(em: EntityManager): Promise<Date | null> {
    const until = await this.until(em);
    if (!until || (await this.empty(em))) return null;
    return (await this.changedSince(em, until)) ?? until;
  }

  /** Forgets the facts and the item gifts from `day` (a UTC midnight) on, to roll them up again. */
  async forgetFrom(em: EntityManager, day: Date): Promise<void> {
    await queryRows(em, `DELETE FROM economy_order_facts WHERE day >= $1`, [day]);
    await queryRows(em, `DELETE FROM economy_item_gifts WHERE at >= $1`, [day]);
  }

  /** Adds the facts of the sales created in [from, to) to their days, keeps their item gifts, and moves the end to `to`. */
  async rollUp(em: EntityManager, from: Date | null, to: Date, now: Date): Promise<void> {
    await queryRows(
      em,
      `INSERT INTO economy_order_facts (day, kind, ref, n, amount)
       SELECT day, kind, ref, n, amount FROM (${orderFacts(`coalesce($1::timestamptz, '-infinity')`, '$2::timestamptz', '$2::timestamptz', true)}) f
       ON CONFLICT (kind, day, ref) DO UPDATE SET n = economy_order_facts.n + excluded.n, amount = economy_order_facts.amount + excluded.amount`,
      [from, to],
    );
    await queryRows(
      em,
      `INSERT INTO economy_item_gifts (order_id, at, giver, receiver)
       SELECT id, created_at, buyer_id, owner_id FROM orders
        WHERE ${SOLD} AND owner_id <> buyer_id AND created_at >= coalesce($1::timestamptz, '-infinity') AND created_at < $2`,
      [from, to],
    );
    await queryRows(em, `UPDATE economy_rollup_state SET orders_until = $1, rolled_at = $2`, [to, now]);
  }

  /** Empties the rollup: nothing rolled up. */
  async clear(em: EntityManager): Promise<void> {
    await queryRows(em, `DELETE FROM economy_order_facts`);
    await queryRows(em, `DELETE FROM economy_item_gifts`);
    await queryRows(em, `UPDATE economy_rollup_state SET orders_until = NULL, rolled_at = NULL`);
  }
}

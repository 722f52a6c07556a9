import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';

export const SOLD = `status IN ('completed', 'refunded')`;

/** `col` at the start of its UTC day when `daily`, as it is otherwise. */
const GRAIN = (col: string, daily: string) =>
  `CASE WHEN ${daily} THEN date_bin(interval '86400 seconds', ${col}, timestamptz '2000-01-01 00:00:00+00') ELSE ${col} END`;

/**
 * The facts of the sales (orders `completed` or later `refunded`) created in [lo, hi), counted per
 * (day, kind, ref) at the grain asked (UTC days for the rollup, exact times for the report's live part).
 * `day` is the sale's time; for every kind but `again`, only sales before `end` count:
 * - `sale_credit`, `sale_promo` (n, amount: the prices) and `platform_fee` (amount: the CREDIT markups);
 * - `pair_lag_<k>` (k = 1, 2, 4, 5): `ref` is the time of the buyer-creator pair's k-th sale before this
 *   one (none: no row). Over a window starting at A, the pairs with at least m sales in it are the sales
 *   in it whose (m-1)-th previous one is at or after A, less those whose m-th is: the orbits;
 * - `new_buyer`: the buyer's first purchase ever; `again`: the buyer's second, within 30 days of the
 *   first, whose time is `ref` (the figure belongs to the first's interval).
 * `lo`, `hi`, `end` and `daily` are the statement's placeholders.
 */
export const orderFacts = (lo: string, hi: string, end: string, daily: string): string => `
  WITH o AS MATERIALIZED (
    SELECT o.id, o.buyer_id, o.seller_id, o.created_at, o.pay_with, o.price, o.platform_fee
      FROM orders o WHERE o.${SOLD} AND o.created_at >= ${lo} AND o.created_at < ${hi}
  ), pairs AS (
    SELECT DISTINCT buyer_id, seller_id FROM o WHERE created_at < ${end}
  ), hist AS (
    SELECT p.id, lag(p.created_at, 1) OVER w AS s1, lag(p.created_at, 2) OVER w AS s2, lag(p.created_at, 4) OVER w AS s4,
           lag(p.created_at, 5) OVER w AS s5
      FROM pairs x JOIN orders p ON p.buyer_id = x.buyer_id AND p.seller_id = x.seller_id
     WHERE p.${SOLD} AND p.created_at < ${end}
    WINDOW w AS (PARTITION BY p.buyer_id, p.seller_id ORDER BY p.created_at, p.id)
  ), firsts AS (
    -- each buyer's first two purchases ever (a few index entries per buyer)
    SELECT f.ids, f.ats FROM (SELECT DISTINCT buyer_id FROM o) b
     CROSS JOIN LATERAL (SELECT array_agg(x.id ORDER BY x.created_at, x.id) AS ids, array_agg(x.created_at ORDER BY x.created_at, x.id) AS ats
                           FROM (SELECT q.id, q.created_at FROM orders q WHERE q.buyer_id = b.buyer_id AND q.${SOLD}
                                  ORDER BY q.created_at, q.id LIMIT 2) x) f
  ), facts (at, kind, ref, amount) AS (
    SELECT o.created_at, CASE WHEN o.pay_with = 'CREDIT' THEN 'sale_credit' ELSE 'sale_promo' END, o.created_at, o.price
      FROM o WHERE o.created_at < ${end}
    UNION ALL
    SELECT o.created_at, 'platform_fee', o.created_at, o.platform_fee FROM o WHERE o.pay_with = 'CREDIT' AND o.created_at < ${end}
    UNION ALL
    SELECT o.created_at, 'pair_lag_' || l.k, l.at, 0
      FROM o JOIN hist h ON h.id = o.id
     CROSS JOIN LATERAL (VALUES (1, h.s1), (2, h.s2), (4, h.s4), (5, h.s5)) l (k, at)
     WHERE l.at IS NOT NULL
    UNION ALL
    SELECT o.created_at, 'new_buyer', o.created_at, 0 FROM firsts f JOIN o ON o.id = f.ids[1] WHERE o.created_at < ${end}
    UNION ALL
    SELECT o.created_at, 'again', f.ats[1], 0 FROM firsts f JOIN o ON o.id = f.ids[2] WHERE o.created_at <= f.ats[1] + interval '30 days'
  )
  SELECT ${GRAIN('at', daily)} AS day, kind, ${GRAIN('ref', daily)} AS ref, count(*) AS n, sum(amount) AS amount FROM facts GROUP BY 1, 2, 3`;

/**
 * The economy report's rollup of the orders: `economy_order_facts` holds the facts (orderFacts) of the
 * sales created before `economy_rollup_state.orders_until`, per UTC day. Only the economy module
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

  /** The time of the oldest order still held for review (it may still become a sale, at its own time). */
  async oldestHeld(em: EntityManager): Promise<Date | null> {
    const [row] = await queryRows<{ at: Date | null }>(em, `SELECT min(created_at) AS at FROM orders WHERE status = 'held_for_review'`);
    return row.at;
  }

  /** Adds the facts of the sales created in [from, to) to their days and moves the end to `to`. */
  async rollUp(em: EntityManager, from: Date | null, to: Date, now: Date): Promise<void> {
    await queryRows(
      em,
      `INSERT INTO economy_order_facts (day, kind, ref, n, amount)
       SELECT day, kind, ref, n, amount FROM (${orderFacts(`coalesce($1::timestamptz, '-infinity')`, '$2::timestamptz', '$2::timestamptz', 'true')}) f
       ON CONFLICT (kind, day, ref) DO UPDATE SET n = economy_order_facts.n + excluded.n, amount = economy_order_facts.amount + excluded.amount`,
      [from, to],
    );
    await queryRows(em, `UPDATE economy_rollup_state SET orders_until = $1, rolled_at = $2`, [to, now]);
  }

  /** Empties the rollup: nothing rolled up. */
  async clear(em: EntityManager): Promise<void> {
    await queryRows(em, `DELETE FROM economy_order_facts`);
    await queryRows(em, `UPDATE economy_rollup_state SET orders_until = NULL, rolled_at = NULL`);
  }
}

import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock.service';
import { notFound } from '../common/errors';
import { queryRows } from '../database/sql';
import { TransactionRunner } from '../database/transaction-runner';
import { LedgerService, Posting, systemAccount, userAccount } from '../ledger/ledger.service';
import { ORDER_COLUMNS, OrderRow, OrderView, toOrderView } from './order.mapper';
import { orderMachine } from './order-state';
import { mergePostings } from './sale-plan';

interface LineRow {
  id: string;
  creator_id: string;
  asset: 'CREDIT' | 'DEV_TOKEN';
  amount: string;
  status: 'pending' | 'matured' | 'reversed';
}

/**
 * Admin refunds. The buyer gets the price back into the accounts it came from and loses the item. With
 * `chargeCreator` the creators' shares come back (pending first; a matured share from `earnings`, what
 * is missing becoming `debt`); without it the platform pays the refund (the markup back from
 * `platform_revenue`, the creators' shares newly issued) and the creators keep their earnings.
 */
@Injectable()
export class OrderRefundsService {
  constructor(
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    private readonly ledger: LedgerService,
    private readonly audit: AuditService,
  ) {}

  async refund(adminId: string, orderId: string, reason: string, chargeCreator: boolean): Promise<OrderView> {
    return this.tx.run(async (em) => {
      const [order] = await queryRows<OrderRow>(em, `SELECT ${ORDER_COLUMNS} FROM orders WHERE id = $1 FOR UPDATE`, [orderId]);
      if (!order) throw notFound('Order');
      const next = orderMachine.next(order.status, 'refund');
      const lines = await queryRows<LineRow>(
        em,
        `SELECT id, creator_id, asset, amount, status FROM sale_earnings WHERE order_id = $1 AND status <> 'reversed' ORDER BY id FOR UPDATE`,
        [orderId],
      );
      const reversed = chargeCreator ? lines : [];
      const postings = [
        ...this.toBuyer(order),
        ...(order.pay_with === 'CREDIT' ? this.creditSources(order, lines, chargeCreator) : this.promoSources(order)),
      ];
      postings.push(...(await this.chargeCreators(em, reversed)));
      const now = this.clock.now();
      const merged = mergePostings(postings);
      if (merged.length) {
        await this.ledger.post(em, {
          kind: 'refund',
          reference: `order_refund:${orderId}`,
          postings: merged,
          metadata: { orderId, chargeCreator, reason },
        });
      }
      const [updated] = await queryRows<OrderRow>(
        em,
        `UPDATE orders SET status = $2, refunded_at = $3, refunded_by = $4, refund_reason = $5, refund_charged_creator = $6
         WHERE id = $1 RETURNING ${ORDER_COLUMNS}`,
        [orderId, next, now, adminId, reason, chargeCreator],
      );
      await em.query('UPDATE inventory SET revoked_at = $2 WHERE order_id = $1 AND revoked_at IS NULL', [orderId, now]);
      if (reversed.length) {
        await em.query(`UPDATE sale_earnings SET status = 'reversed', reversed_at = $2 WHERE id = ANY ($1::bigint[])`, [
          reversed.map((l) => l.id),
          now,
        ]);
      }
      await this.audit.record(em, {
        actorId: adminId,
        action: 'order.refund',
        subjectType: 'order',
        subjectId: orderId,
        reason,
        data: { chargeCreator, price: order.price, payWith: order.pay_with, buyerId: order.buyer_id },
      });
      return toOrderView(updated);
    });
  }

  /** The price back to the buyer, into the sub-accounts it was paid from. */
  private toBuyer(order: OrderRow): Posting[] {
    return Object.entries(order.paid_from).map(([name, amount]) => ({
      account: userAccount(order.buyer_id, order.pay_with, name as 'wallet' | 'earnings'),
      amount: BigInt(amount),
    }));
  }

  /** CREDIT: the markup from the platform; the creators' shares from them (charged) or newly issued. */
  private creditSources(order: OrderRow, lines: LineRow[], chargeCreator: boolean): Posting[] {
    const shares = lines.filter((l) => l.asset === 'CREDIT').reduce((s, l) => s + BigInt(l.amount), 0n);
    return [
      { account: systemAccount('platform_revenue', 'CREDIT'), amount: -BigInt(order.platform_fee) },
      ...(chargeCreator ? [] : [{ account: systemAccount('issuance', 'CREDIT'), amount: -shares }]),
    ];
  }

  /** PROMO: the burned price comes back out of `burn`. */
  private promoSources(order: OrderRow): Posting[] {
    return [{ account: systemAccount('burn', 'PROMO'), amount: -BigInt(order.price) }];
  }

  /**
   * Takes the creators' shares back: a pending share from `earnings_pending` (it is still there); a
   * matured one from `earnings`, the shortfall into `debt`. DEV_TOKENs already spent are forgiven.
   */
  private async chargeCreators(em: EntityManager, lines: LineRow[]): Promise<Posting[]> {
    const postings: Posting[] = [];
    const matured = new Map<string, bigint>();
    for (const l of lines) {
      const amount = BigInt(l.amount);
      if (l.asset === 'CREDIT' && l.status === 'pending')
        postings.push({ account: userAccount(l.creator_id, 'CREDIT', 'earnings_pending'), amount: -amount });
      else {
        const key = `${l.creator_id}|${l.asset}`;
        matured.set(key, (matured.get(key) ?? 0n) + amount);
      }
    }
    // One debit per creator and asset, in a fixed order, so two of a creator's lines never count the same balance twice.
    for (const [key, amount] of [...matured].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (amount === 0n) continue;
      const [userId, asset] = key.split('|') as [string, 'CREDIT' | 'DEV_TOKEN'];
      const from = asset === 'CREDIT' ? (['earnings'] as const) : (['wallet'] as const);
      const debit = await this.ledger.debitInOrder(em, { userId, asset, from: [...from], amount, allowShortfall: true });
      postings.push(...debit.postings);
      const taken = amount - debit.shortfall;
      if (asset === 'DEV_TOKEN') {
        // The ledger refuses zero legs: DEV_TOKENs all spent already leave nothing to return to issuance.
        if (taken > 0n) postings.push({ account: systemAccount('issuance', asset), amount: taken });
      } else if (debit.shortfall > 0n) postings.push({ account: userAccount(userId, 'CREDIT', 'debt'), amount: -debit.shortfall });
    }
    return postings;
  }
}

import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { businessEvent } from '../common/business-events';
import { Clock } from '../common/clock.service';
import { sortedBy } from '../common/compare';
import { IdempotencyService, IdempotentReplay, IdempotentRequest } from '../common/idempotency/idempotency.service';
import { LedgerService, Posting, systemAccount, userAccount } from '../ledger/ledger.service';
import { EarningLineRow, EarningsRepository } from './earnings.repository';
import { orderMachine } from './order-state';
import { OrdersErrors } from './orders.errors';
import { OrdersRepository } from './orders.repository';
import { OrderRow, OrderView, toOrderView } from './orders.rows';
import { mergePostings } from './sale-plan';

/**
 * Admin refunds. The buyer gets the price back into the accounts it came from and loses the item. With
 * `chargeCreator` the creators' shares come back (pending first; a matured share from `earnings`, what
 * is missing becoming `debt`); without it the platform pays the refund (the markup back from
 * `platform_revenue`, the creators' shares newly issued) and the creators keep their earnings.
 */
@Injectable()
export class OrderRefundsService {
  constructor(
    private readonly idempotency: IdempotencyService,
    private readonly clock: Clock,
    private readonly ledger: LedgerService,
    private readonly audit: AuditService,
    private readonly orders: OrdersRepository,
    private readonly earnings: EarningsRepository,
  ) {}

  async refund(
    adminId: string,
    orderId: string,
    reason: string,
    chargeCreator: boolean,
    request: IdempotentRequest,
  ): Promise<OrderView | IdempotentReplay> {
    return this.idempotency.run(request, async (em) => {
      const order = await this.orders.findForUpdate(em, orderId);
      if (!order) throw OrdersErrors.orderNotFound();
      const next = orderMachine.next(order.status, 'refund');
      const lines = await this.earnings.linesOfOrderForUpdate(em, orderId);
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
          // One refund per order, whatever the key: the ledger refuses a second one as well.
          reference: `order_refund:${orderId}`,
          postings: merged,
          metadata: { orderId, chargeCreator, reason },
        });
      }
      const updated = await this.orders.markRefunded(em, orderId, {
        status: next,
        at: now,
        by: adminId,
        reason,
        chargedCreator: chargeCreator,
      });
      await this.orders.revokeOwnership(em, orderId, now);
      if (reversed.length) {
        await this.earnings.markReversed(
          em,
          reversed.map((l) => l.id),
          now,
        );
      }
      await this.audit.record(em, {
        actorId: adminId,
        action: 'order.refund',
        subjectType: 'order',
        subjectId: orderId,
        reason,
        data: { chargeCreator, price: order.price, payWith: order.pay_with, buyerId: order.buyer_id },
      });
      businessEvent(em, 'order.refunded', {
        orderId,
        adminId,
        buyerId: order.buyer_id,
        price: String(order.price),
        payWith: order.pay_with,
        chargeCreator,
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
  private creditSources(order: OrderRow, lines: EarningLineRow[], chargeCreator: boolean): Posting[] {
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
  private async chargeCreators(em: EntityManager, lines: EarningLineRow[]): Promise<Posting[]> {
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
    for (const [key, amount] of sortedBy([...matured], ([k]) => k)) {
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

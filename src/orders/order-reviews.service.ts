import { Injectable, OnModuleInit } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { CatalogService } from '../catalog/catalog.service';
import { Clock } from '../common/clock.service';
import { ReviewsService } from '../fraud/reviews.service';
import { LedgerService } from '../ledger/ledger.service';
import { orderMachine } from './order-state';
import { OrdersErrors } from './orders.errors';
import { OrdersRepository } from './orders.repository';
import { OrderRow } from './orders.rows';
import { releaseHolds } from './review-holds';
import { ledgerReference, paidLegs, SaleSettlement } from './sale-settlement.service';

/**
 * How an admin's decision on an `item_purchase` review finishes a held order, in the admin's
 * transaction. Approved: the holds are voided and the sale completes as it would have when it was
 * bought (the same one ledger entry under the order's reference, the item owned, the creators' lines;
 * the earnings mature from now, the sale's date). The item's listing may have been delisted meanwhile:
 * the sale still completes at the price the order fixed, since the buyer bought it while it was for
 * sale. If the owner got the item meanwhile (owned once), the order is `cancelled` and nothing moves.
 * Rejected: the holds are voided, the order `rejected`, nothing else moves.
 */
@Injectable()
export class OrderReviewsService implements OnModuleInit {
  constructor(
    private readonly clock: Clock,
    private readonly ledger: LedgerService,
    private readonly catalog: CatalogService,
    private readonly reviews: ReviewsService,
    private readonly settlement: SaleSettlement,
    private readonly orders: OrdersRepository,
  ) {}

  onModuleInit(): void {
    this.reviews.handle('item_purchase', {
      approve: (em, review) => this.approve(em, review.subjectId),
      reject: (em, review) => this.reject(em, review.subjectId),
    });
  }

  async approve(em: EntityManager, orderId: string): Promise<void> {
    const order = await this.lock(em, orderId);
    const completed = orderMachine.next(order.status, 'approve');
    await releaseHolds(this.ledger, em, order.review_hold_ids);
    const now = this.clock.now();
    const got = await this.orders.insertOwnership(em, [{ ownerId: order.owner_id, listingId: order.listing_id, orderId }], now);
    if (!got.has(orderId)) {
      await this.orders.markStatus(em, orderId, orderMachine.next(order.status, 'cancel'));
      return;
    }
    const listing = (await this.catalog.forSaleMany(em, [order.listing_id])).get(order.listing_id);
    if (!listing) throw OrdersErrors.listingNotFound();
    await this.settlement.settle(
      em,
      [
        {
          orderId,
          listing,
          buyerId: order.buyer_id,
          ownerId: order.owner_id,
          payWith: order.pay_with,
          paid: paidLegs(order),
          reference: ledgerReference(order.buyer_id, order.idempotency_key),
        },
      ],
      now,
      (lines) => this.orders.insertEarnings(em, lines, now),
    );
    await this.orders.markStatus(em, orderId, completed);
  }

  async reject(em: EntityManager, orderId: string): Promise<void> {
    const order = await this.lock(em, orderId);
    const rejected = orderMachine.next(order.status, 'reject');
    await releaseHolds(this.ledger, em, order.review_hold_ids);
    await this.orders.markStatus(em, orderId, rejected);
  }

  private async lock(em: EntityManager, orderId: string): Promise<OrderRow> {
    const order = await this.orders.findForUpdate(em, orderId);
    if (!order) throw OrdersErrors.orderNotFound();
    return order;
  }
}

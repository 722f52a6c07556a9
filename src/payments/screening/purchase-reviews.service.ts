import { Injectable, OnModuleInit } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Clock } from '../../common/clock.service';
import { isUuid } from '../../common/ids';
import type { Review } from '../../fraud/reviews.repository';
import { ReviewsService } from '../../fraud/reviews.service';
import { PurchaseSettlementService } from '../purchases/purchase-settlement.service';
import { PurchaseSignalsService } from '../purchases/purchase-signals.service';
import type { PurchaseRecord } from '../purchases/purchase.record';
import { TokenPurchasesRepository } from '../purchases/token-purchases.repository';
import { PurchaseScreeningService } from './purchase-screening.service';

/**
 * How admins' decisions on purchase reviews finish the purchase, in the admin's transaction. The
 * request's event type (`token_purchase`, or `wholesale_purchase` for a purchase into reseller stock)
 * and `payment_succeeded` review the same purchase and are handled alike,
 * each taking the purchase's row lock first, so two cases of one purchase decided at the same time
 * are applied one after the other, the second seeing the first:
 * - approve: once no other case of the purchase is open, the review holds are released (the credits
 *   become spendable; nothing else moves). Before the payment succeeded there is nothing to release:
 *   the approved case no longer holds what the success mints.
 * - reject: the purchase is refused (PurchaseSignalsService.refuse): what was minted is clawed back in
 *   this transaction and the refund queued in it; a purchase not yet paid is refunded when it is.
 * Both are idempotent: a purchase already finished (or one never created, its PaymentIntent never
 * made) is left as it is.
 */
@Injectable()
export class PurchaseReviewsService implements OnModuleInit {
  constructor(
    private readonly reviews: ReviewsService,
    private readonly purchases: TokenPurchasesRepository,
    private readonly signals: PurchaseSignalsService,
    private readonly settlement: PurchaseSettlementService,
    private readonly screening: PurchaseScreeningService,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    const handler = {
      approve: (em: EntityManager, r: Review) => this.approve(em, r),
      reject: (em: EntityManager, r: Review) => this.reject(em, r),
    };
    this.reviews.handle('token_purchase', handler);
    this.reviews.handle('wholesale_purchase', handler);
    this.reviews.handle('payment_succeeded', handler);
  }

  async approve(em: EntityManager, review: Review): Promise<void> {
    const p = await this.lock(em, review);
    if (!p || p.fraudRefusal || p.reviewHoldIds.length === 0) return;
    if ((await this.screening.reviewState(em, p, review.eventType)) !== 'clear') return;
    await this.settlement.releaseReviewHolds(em, p.reviewHoldIds);
    await this.purchases.clearReviewHolds(em, p.id, this.clock.now());
  }

  async reject(em: EntityManager, review: Review): Promise<void> {
    const p = await this.lock(em, review);
    if (p) await this.signals.refuse(em, p, 'rejected');
  }

  private async lock(em: EntityManager, review: Review): Promise<PurchaseRecord | undefined> {
    return isUuid(review.subjectId) ? this.purchases.lock(em, review.subjectId) : undefined;
  }
}

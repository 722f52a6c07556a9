import { Injectable, OnModuleInit } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Clock } from '../../common/clock.service';
import { addHours } from '../../common/time';
import { AppConfig } from '../../config/app-config';
import { Review } from '../../fraud/reviews.repository';
import { ReviewsService } from '../../fraud/reviews.service';
import { LedgerService } from '../../ledger/ledger.service';
import { OrderDisputesService } from './order-disputes.service';
import { returnEntry } from './reseller-order-entries';
import { OrderActor, ResellerOrderSteps } from './reseller-order-steps.service';
import { ResellerOrdersService } from './reseller-orders.service';

/**
 * How an admin's decision on a reviewed reseller order finishes it, in the admin's transaction
 * (docs/resellers.md "Fraud reviews"). `reseller_order_open`: approved, the order is `open` as an
 * allowed opening is, its unpaid expiry counted from the approval; rejected, the escrowed credits go
 * back to the reseller's stock (`rejected`). `reseller_order_confirm`: approved, the credits are
 * delivered as an allowed confirmation delivers them; rejected, the order becomes a dispute an admin
 * resolves (the credits stay in escrow).
 */
@Injectable()
export class ResellerOrderReviews implements OnModuleInit {
  constructor(
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly ledger: LedgerService,
    private readonly reviews: ReviewsService,
    private readonly steps: ResellerOrderSteps,
    private readonly orders: ResellerOrdersService,
    private readonly disputes: OrderDisputesService,
  ) {}

  onModuleInit(): void {
    this.reviews.handle('reseller_order_open', {
      approve: (em, review, adminId) => this.approveOpen(em, review, admin(adminId)),
      reject: (em, review, adminId) => this.rejectOpen(em, review, admin(adminId)),
    });
    this.reviews.handle('reseller_order_confirm', {
      approve: async (em, review, adminId) => {
        await this.orders.deliver(em, await this.steps.lock(em, review.subjectId), 'approve_confirm', admin(adminId));
      },
      reject: async (em, review, adminId) => {
        await this.disputes.openBySystem(
          em,
          await this.steps.lock(em, review.subjectId),
          'reject_confirm',
          'The confirmation was refused in a fraud review',
          admin(adminId),
        );
      },
    });
  }

  private async approveOpen(em: EntityManager, review: Review, actor: OrderActor): Promise<void> {
    const order = await this.steps.lock(em, review.subjectId);
    const status = this.steps.next(order, 'approve_open');
    const expiresAt = addHours(this.clock.now(), this.config.resellers.unpaidExpiryHours);
    await this.steps.step(em, order, { ...order, status, expiresAt }, actor);
  }

  private async rejectOpen(em: EntityManager, review: Review, actor: OrderActor): Promise<void> {
    const order = await this.steps.lock(em, review.subjectId);
    const status = this.steps.next(order, 'reject_open');
    await this.ledger.post(em, returnEntry(order, 'rejected'));
    await this.steps.step(em, order, { ...order, status, closedAt: this.clock.now() }, actor);
  }
}

const admin = (id: string): OrderActor => ({ id, role: 'admin' });

import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AccountGuardService } from '../../account-guard/account-guard.service';
import { AppError } from '../../common/errors';

export interface DisputeRef {
  userId: string;
  purchaseId: string;
  disputeId: string;
}

/**
 * Account holds for disputes: a system hold of the account guard named `dispute:<disputeId>`, placed
 * and released in the webhook's transaction (so it commits with the dispute's change, or neither
 * does). Every outgoing-value check sees it and admins can release it. A won dispute releases only
 * its own hold: an admin's hold, or another dispute's, stays.
 */
@Injectable()
export class DisputeHolds {
  constructor(private readonly guard: AccountGuardService) {}

  /** Places the dispute's hold once: a redelivered event, or one after an admin released it, changes nothing. */
  async place(em: EntityManager, d: DisputeRef): Promise<void> {
    await this.guard.placeSystemHold(em, { userId: d.userId, reference: referenceOf(d), reason: describe(d) });
  }

  async release(em: EntityManager, d: DisputeRef): Promise<void> {
    await this.guard.releaseSystemHold(em, { userId: d.userId, reference: referenceOf(d), reason: `${describe(d)} was won` });
  }

  /** Buying is refused while the account is on hold (cooling periods and freezes do not stop it). */
  async assertMayBuy(userId: string): Promise<void> {
    if ((await this.guard.state(userId)).onHold) throw new AppError('ACCOUNT_ON_HOLD', 'This account is on hold; contact support');
  }
}

export function referenceOf(d: Pick<DisputeRef, 'disputeId'>): string {
  return `dispute:${d.disputeId}`;
}

function describe(d: DisputeRef): string {
  return `Stripe dispute ${d.disputeId} on token purchase ${d.purchaseId}`;
}

import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AccountGuardService } from '../../account-guard/account-guard.service';

export interface DisputeRef {
  userId: string;
  purchaseId: string;
  disputeId: string;
}

/**
 * While a Stripe dispute is open, the buyer's account is restricted: the account guard carries a
 * system account hold named `dispute:<disputeId>` (not a ledger hold: no funds are reserved). It is
 * imposed and lifted in the webhook's transaction (so it commits with the dispute's change, or neither
 * does); every outgoing-value check and SpendingPolicy.assertMayBuyCredits see it, and admins can release it. A won dispute
 * lifts only its own restriction: an admin's hold, or another dispute's, stays.
 */
@Injectable()
export class DisputeRestrictionsService {
  constructor(private readonly guard: AccountGuardService) {}

  /** Imposes the dispute's restriction once: a redelivered event, or one after an admin released it, changes nothing. */
  async impose(em: EntityManager, d: DisputeRef): Promise<void> {
    await this.guard.placeSystemHold(em, { userId: d.userId, reference: restrictionReference(d), reason: describe(d) });
  }

  async lift(em: EntityManager, d: DisputeRef): Promise<void> {
    await this.guard.releaseSystemHold(em, { userId: d.userId, reference: restrictionReference(d), reason: `${describe(d)} was won` });
  }
}

/** The account guard's reference of a dispute's system hold. */
export function restrictionReference(d: Pick<DisputeRef, 'disputeId'>): string {
  return `dispute:${d.disputeId}`;
}

function describe(d: DisputeRef): string {
  return `Stripe dispute ${d.disputeId} on token purchase ${d.purchaseId}`;
}

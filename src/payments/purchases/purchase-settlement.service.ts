import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Clock } from '../../common/clock.service';
import { AppError } from '../../common/errors';
import { addDays } from '../../common/time';
import { AppConfig } from '../../config/app-config';
import { Asset, LedgerService, Posting, systemAccount, UserAccountName, userAccount } from '../../ledger/ledger.service';
import { clawbackOrder } from './purchase-destination';
import type { PurchaseRecord } from './purchase.record';
import { adjustment, clawedDebtAfterGrant, repayableDebt, TokenAmounts, splitGrant } from './settlement';

export type Settled = Pick<
  PurchaseRecord,
  'grantedCredits' | 'grantedPromo' | 'clawedEarnings' | 'clawedDebt' | 'ledgerOps' | 'reviewHoldIds'
>;

const nonZero = (postings: Posting[]): Posting[] => postings.filter((p) => p.amount !== 0n);
const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/**
 * Moves value so that the buyer holds what the purchase's status makes due. Grants mint from
 * `issuance` into the purchase's destination (`wallet`, or `reseller_stock` for a wholesale purchase,
 * whose grants repay only the debt its own clawbacks made: see `repayableDebt`); clawbacks take from
 * the destination, then `wallet`, then `earnings`, and what is missing becomes `debt`. The bonus PROMO
 * the same way: a grant repays PROMO `debt` first, a clawback takes from the PROMO `wallet` and what was
 * spent already becomes PROMO `debt`.
 * Ledger references derive from the purchase id and its operation count, which the caller holds
 * under the purchase's row lock, so a retried job posts the very same entries.
 *
 * Under a fraud review a grant is minted all the same, and what it put in the destination is held
 * (`fraud_review:<purchase>`, towards `escrow`, never captured) until the review is approved; a
 * clawback releases those holds first, so that it takes back the credits they kept.
 */
@Injectable()
export class PurchaseSettlementService {
  constructor(
    private readonly ledger: LedgerService,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  async settle(
    em: EntityManager,
    p: PurchaseRecord,
    due: TokenAmounts,
    reason: string,
    opts: { holdForReview?: boolean } = {},
  ): Promise<Settled> {
    const current: Settled = {
      grantedCredits: p.grantedCredits,
      grantedPromo: p.grantedPromo,
      clawedEarnings: p.clawedEarnings,
      clawedDebt: p.clawedDebt,
      ledgerOps: p.ledgerOps,
      reviewHoldIds: p.reviewHoldIds,
    };
    const adj = adjustment(due, { credits: p.grantedCredits, promo: p.grantedPromo });
    if (adj.kind === 'none') return current;
    const ops = p.ledgerOps + 1;
    // The first movement of a purchase is always its mint.
    const reference = ops === 1 ? `token_purchase:${p.id}:mint` : `token_purchase:${p.id}:${adj.kind}:${ops}`;
    const metadata = { purchaseId: p.id, reason };

    if (adj.kind === 'grant') {
      const owed = await this.ledger.lockAndReadOwed(em, p.userId, 'CREDIT');
      const split = splitGrant(adj.credits, repayableDebt(p.destination, owed, p.clawedDebt), p.clawedEarnings);
      const promoToDebt = adj.promo > 0n ? min(adj.promo, await this.ledger.owed(p.userId, 'PROMO')) : 0n;
      const postings = nonZero([
        { account: systemAccount('issuance', 'CREDIT'), amount: -adj.credits },
        { account: userAccount(p.userId, 'CREDIT', 'debt'), amount: split.toDebt },
        { account: userAccount(p.userId, 'CREDIT', 'earnings'), amount: split.toEarnings },
        { account: userAccount(p.userId, 'CREDIT', p.destination), amount: split.toDestination },
        { account: systemAccount('issuance', 'PROMO'), amount: -adj.promo },
        { account: userAccount(p.userId, 'PROMO', 'debt'), amount: promoToDebt },
        { account: userAccount(p.userId, 'PROMO', 'wallet'), amount: adj.promo - promoToDebt },
      ]);
      const repaid = { repaidDebt: split.toDebt.toString(), ...(promoToDebt > 0n && { repaidPromoDebt: promoToDebt.toString() }) };
      await this.ledger.post(em, { kind: 'mint', reference, postings, metadata: { ...metadata, ...repaid } });
      const held = opts.holdForReview
        ? await this.holdForReview(em, p, ops, [
            ['CREDIT', p.destination, split.toDestination],
            ['PROMO', 'wallet', adj.promo - promoToDebt],
          ])
        : [];
      return {
        grantedCredits: p.grantedCredits + adj.credits,
        grantedPromo: p.grantedPromo + adj.promo,
        clawedEarnings: p.clawedEarnings - split.toEarnings,
        clawedDebt: clawedDebtAfterGrant(p.clawedDebt, adj.credits),
        ledgerOps: ops,
        reviewHoldIds: [...p.reviewHoldIds, ...held],
      };
    }

    await this.ledger.lockAndReadOwed(em, p.userId, 'CREDIT');
    await this.releaseReviewHolds(em, p.reviewHoldIds);
    const credit = await this.take(em, p.userId, 'CREDIT', clawbackOrder(p.destination), adj.credits);
    const promo = await this.take(em, p.userId, 'PROMO', ['wallet'], adj.promo);
    const fromEarnings = credit.postings
      .filter((x) => 'userId' in x.account && x.account.name === 'earnings')
      .reduce((sum, x) => sum - x.amount, 0n);
    const postings = nonZero([
      ...credit.postings,
      { account: userAccount(p.userId, 'CREDIT', 'debt'), amount: -credit.shortfall },
      { account: systemAccount('issuance', 'CREDIT'), amount: adj.credits },
      ...promo.postings,
      { account: userAccount(p.userId, 'PROMO', 'debt'), amount: -promo.shortfall },
      { account: systemAccount('issuance', 'PROMO'), amount: adj.promo },
    ]);
    if (postings.length > 0) {
      await this.ledger.post(em, {
        kind: 'clawback',
        reference,
        postings,
        metadata: { ...metadata, debt: credit.shortfall.toString(), promoDebt: promo.shortfall.toString() },
      });
    }
    return {
      grantedCredits: p.grantedCredits - adj.credits,
      grantedPromo: p.grantedPromo - adj.promo,
      clawedEarnings: p.clawedEarnings + fromEarnings,
      clawedDebt: p.clawedDebt + credit.shortfall,
      ledgerOps: postings.length > 0 ? ops : p.ledgerOps,
      reviewHoldIds: [],
    };
  }

  /**
   * Releases a purchase's review holds (in the caller's transaction). A hold that is no longer
   * pending (it expired after FRAUD_REVIEW_HOLD_DAYS) has released its funds already.
   */
  async releaseReviewHolds(em: EntityManager, holdIds: string[]): Promise<void> {
    for (const id of holdIds) {
      try {
        await this.ledger.void(em, id);
      } catch (err) {
        if (!(err instanceof AppError && err.code === 'INVALID_STATE')) throw err;
      }
    }
  }

  /** Holds what a grant put in the buyer's accounts; the first grant's CREDIT hold is `fraud_review:<purchase>`. */
  private async holdForReview(
    em: EntityManager,
    p: PurchaseRecord,
    ops: number,
    amounts: [Asset, UserAccountName, bigint][],
  ): Promise<string[]> {
    const expiresAt = addDays(this.clock.now(), this.config.fraud.reviewHoldDays);
    const ids: string[] = [];
    for (const [asset, account, amount] of amounts) {
      if (amount === 0n) continue;
      const reference = `fraud_review:${p.id}${ops === 1 ? '' : `:${ops}`}${asset === 'CREDIT' ? '' : `:${asset.toLowerCase()}`}`;
      const { holdId } = await this.ledger.hold(em, {
        reference,
        kind: 'fraud_review',
        from: userAccount(p.userId, asset, account),
        to: systemAccount('escrow', asset),
        amount,
        expiresAt,
        metadata: { purchaseId: p.id },
      });
      ids.push(holdId);
    }
    return ids;
  }

  private async take(em: EntityManager, userId: string, asset: 'CREDIT' | 'PROMO', from: UserAccountName[], amount: bigint) {
    if (amount === 0n) return { postings: [] as Posting[], shortfall: 0n };
    return this.ledger.debitInOrder(em, { userId, asset, from, amount, allowShortfall: true });
  }
}

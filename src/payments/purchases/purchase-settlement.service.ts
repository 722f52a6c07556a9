import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { LedgerService, Posting, systemAccount, userAccount } from '../../ledger/ledger.service';
import { DebtService } from '../debt/debt.service';
import type { PurchaseRecord } from './purchase.record';
import { adjustment, TokenAmounts, splitGrant } from './settlement';

export type Settled = Pick<PurchaseRecord, 'grantedCredits' | 'grantedPromo' | 'clawedEarnings' | 'ledgerOps'>;

const nonZero = (postings: Posting[]): Posting[] => postings.filter((p) => p.amount !== 0n);

/**
 * Moves value so that the buyer holds what the purchase's status makes due. Grants mint from
 * `issuance`; clawbacks take from `wallet`, then `earnings`, and what is missing becomes `debt`.
 * Ledger references derive from the purchase id and its operation count, which the caller holds
 * under the purchase's row lock, so a retried job posts the very same entries.
 */
@Injectable()
export class PurchaseSettlementService {
  constructor(
    private readonly ledger: LedgerService,
    private readonly debts: DebtService,
  ) {}

  async settle(em: EntityManager, p: PurchaseRecord, due: TokenAmounts, reason: string): Promise<Settled> {
    const current: Settled = {
      grantedCredits: p.grantedCredits,
      grantedPromo: p.grantedPromo,
      clawedEarnings: p.clawedEarnings,
      ledgerOps: p.ledgerOps,
    };
    const adj = adjustment(due, { credits: p.grantedCredits, promo: p.grantedPromo });
    if (adj.kind === 'none') return current;
    const ops = p.ledgerOps + 1;
    // The first movement of a purchase is always its mint.
    const reference = ops === 1 ? `token_purchase:${p.id}:mint` : `token_purchase:${p.id}:${adj.kind}:${ops}`;
    const metadata = { purchaseId: p.id, reason };

    if (adj.kind === 'grant') {
      const split = splitGrant(adj.credits, await this.debts.lockAndReadOwed(em, p.userId), p.clawedEarnings);
      const postings = nonZero([
        { account: systemAccount('issuance', 'CREDIT'), amount: -adj.credits },
        { account: userAccount(p.userId, 'CREDIT', 'debt'), amount: split.toDebt },
        { account: userAccount(p.userId, 'CREDIT', 'earnings'), amount: split.toEarnings },
        { account: userAccount(p.userId, 'CREDIT', 'wallet'), amount: split.toWallet },
        { account: systemAccount('issuance', 'PROMO'), amount: -adj.promo },
        { account: userAccount(p.userId, 'PROMO', 'wallet'), amount: adj.promo },
      ]);
      await this.ledger.post(em, { kind: 'mint', reference, postings, metadata: { ...metadata, repaidDebt: split.toDebt.toString() } });
      return {
        grantedCredits: p.grantedCredits + adj.credits,
        grantedPromo: p.grantedPromo + adj.promo,
        clawedEarnings: p.clawedEarnings - split.toEarnings,
        ledgerOps: ops,
      };
    }

    await this.debts.lockAndReadOwed(em, p.userId);
    const credit = await this.take(em, p.userId, 'CREDIT', ['wallet', 'earnings'], adj.credits);
    // PROMO has no money value: what was already spent of the bonus is forgiven, not owed.
    const promo = await this.take(em, p.userId, 'PROMO', ['wallet'], adj.promo);
    const fromEarnings = credit.postings
      .filter((x) => 'userId' in x.account && x.account.name === 'earnings')
      .reduce((sum, x) => sum - x.amount, 0n);
    const postings = nonZero([
      ...credit.postings,
      { account: userAccount(p.userId, 'CREDIT', 'debt'), amount: -credit.shortfall },
      { account: systemAccount('issuance', 'CREDIT'), amount: adj.credits },
      ...promo.postings,
      { account: systemAccount('issuance', 'PROMO'), amount: adj.promo - promo.shortfall },
    ]);
    if (postings.length > 0) {
      await this.ledger.post(em, {
        kind: 'clawback',
        reference,
        postings,
        metadata: { ...metadata, debt: credit.shortfall.toString(), forgivenPromo: promo.shortfall.toString() },
      });
    }
    return {
      grantedCredits: p.grantedCredits - adj.credits,
      grantedPromo: p.grantedPromo - adj.promo,
      clawedEarnings: p.clawedEarnings + fromEarnings,
      ledgerOps: postings.length > 0 ? ops : p.ledgerOps,
    };
  }

  private async take(em: EntityManager, userId: string, asset: 'CREDIT' | 'PROMO', from: ('wallet' | 'earnings')[], amount: bigint) {
    if (amount === 0n) return { postings: [] as Posting[], shortfall: 0n };
    return this.ledger.debitInOrder(em, { userId, asset, from, amount, allowShortfall: true });
  }
}

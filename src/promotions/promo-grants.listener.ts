import { Injectable, OnModuleInit } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { IdentityHooks } from '../identity/identity.hooks';
import { LedgerService, systemAccount, userAccount } from '../ledger/ledger.service';

/**
 * The platform's PROMO grants on identity events (issuance -> the user's PROMO wallet), written in the
 * transaction of the event itself; the reference makes each grant happen at most once per user. A grant
 * repays PROMO `debt` first (a clawback of spent bonus PROMO); at sign-up nothing can be owed yet.
 */
@Injectable()
export class PromoGrantsListener implements OnModuleInit {
  constructor(
    private readonly ledger: LedgerService,
    private readonly config: AppConfig,
    private readonly hooks: IdentityHooks,
  ) {}

  onModuleInit(): void {
    this.hooks.subscribe({
      userRegistered: (em, user) => this.grant(em, user.id, 'signup_bonus', this.config.economy.signupBonusPromo, false),
      emailVerified: (em, user) => this.grant(em, user.id, 'email_verified_bonus', this.config.economy.emailVerifiedBonusPromo, true),
    });
  }

  private async grant(em: EntityManager, userId: string, kind: string, amount: number, mayOwe: boolean): Promise<void> {
    if (amount <= 0) return;
    const owed = mayOwe ? await this.ledger.lockAndReadOwed(em, userId, 'PROMO') : 0n;
    const toDebt = owed < BigInt(amount) ? owed : BigInt(amount);
    await this.ledger.post(em, {
      kind,
      reference: `${kind}:${userId}`,
      postings: [
        { account: systemAccount('issuance', 'PROMO'), amount: -BigInt(amount) },
        { account: userAccount(userId, 'PROMO', 'debt'), amount: toDebt },
        { account: userAccount(userId, 'PROMO', 'wallet'), amount: BigInt(amount) - toDebt },
      ].filter((p) => p.amount !== 0n),
      ...(toDebt > 0n && { metadata: { repaidPromoDebt: toDebt.toString() } }),
    });
  }
}

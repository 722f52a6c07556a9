import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DebtService } from './debt/debt.service';
import type { FraudOutcomeKind } from './fraud-outcomes/fraud-outcomes.repository';
import { FraudOutcomesService } from './fraud-outcomes/fraud-outcomes.service';
import { TokenPurchasesRepository } from './purchases/token-purchases.repository';

/** What the fraud rules read about a card payment (`card.fingerprint`, `card.country`, `payment.riskScore`). */
export interface PaymentFacts {
  purchaseId: string;
  userId: string;
  status: string;
  amountCents: bigint;
  currency: string;
  cardFingerprint: string | null;
  cardCountry: string | null;
  riskScore: number | null;
}

/** What other modules ask of payments. */
@Injectable()
export class PaymentsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly purchases: TokenPurchasesRepository,
    private readonly debts: DebtService,
    private readonly outcomes: FraudOutcomesService,
  ) {}

  /** Chargebacks and lost disputes recorded for a user (fraud features, reseller eligibility). */
  countFraudOutcomes(userId: string, kind: FraudOutcomeKind): Promise<number> {
    return this.outcomes.countForUser(userId, kind);
  }

  /** The card and Radar facts Stripe reported for a purchase (null fields until the payment succeeded). */
  async paymentFacts(purchaseId: string): Promise<PaymentFacts | undefined> {
    const p = await this.purchases.find(this.dataSource, purchaseId);
    if (!p) return undefined;
    return {
      purchaseId: p.id,
      userId: p.userId,
      status: p.status,
      amountCents: p.priceCents,
      currency: p.currency,
      cardFingerprint: p.cardFingerprint,
      cardCountry: p.cardCountry,
      riskScore: p.riskScore,
    };
  }
}

import { amountToJson } from '../../common/money';
import type { DisputeStatus, PurchaseStatus } from './purchase-state';
import type { PurchaseTerms } from './purchase-terms';

/** Why the fraud checks refused a purchase: its payment was blocked when it succeeded, or a review of it was rejected. */
export type FraudRefusal = 'blocked' | 'rejected';

/** A token purchase: a snapshot of its package (its terms), what Stripe reported, and what the buyer holds from it. */
export interface PurchaseRecord extends PurchaseTerms {
  id: string;
  userId: string;
  status: PurchaseStatus;
  paymentIntentId: string | null;
  chargeId: string | null;
  cardFingerprint: string | null;
  cardCountry: string | null;
  riskScore: number | null;
  failureCode: string | null;
  failureMessage: string | null;
  refundedCents: bigint;
  disputeId: string | null;
  disputeStatus: DisputeStatus | null;
  grantedCredits: bigint;
  grantedPromo: bigint;
  clawedEarnings: bigint;
  /** What this purchase's clawbacks turned into debt and no later grant of it has reversed yet. */
  clawedDebt: bigint;
  ledgerOps: number;
  /** Final once set: nothing is due from a refused purchase, and its payment is refunded. */
  fraudRefusal: FraudRefusal | null;
  /** Ledger holds keeping what was minted under a fraud review unspendable until the review is approved. */
  reviewHoldIds: string[];
  createdAt: Date;
  updatedAt: Date;
  paidAt: Date | null;
}

/** The client's view of a purchase; admins also see the payment's risk facts. */
export function purchaseView(p: PurchaseRecord, forAdmin: boolean) {
  return {
    id: p.id,
    userId: p.userId,
    packageId: p.packageId,
    destination: p.destination,
    status: p.status,
    priceCents: amountToJson(p.priceCents),
    retailPriceCents: p.retailPriceCents === null ? null : amountToJson(p.retailPriceCents),
    currency: p.currency,
    credits: amountToJson(p.credits),
    bonusPromo: amountToJson(p.bonusPromo),
    paymentIntentId: p.paymentIntentId,
    refundedCents: amountToJson(p.refundedCents),
    creditsGranted: amountToJson(p.grantedCredits),
    promoGranted: amountToJson(p.grantedPromo),
    dispute: p.disputeId ? { id: p.disputeId, status: p.disputeStatus } : null,
    failure: p.failureCode || p.failureMessage ? { code: p.failureCode, message: p.failureMessage } : null,
    heldForReview: p.reviewHoldIds.length > 0,
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
    paidAt: p.paidAt?.toISOString() ?? null,
    ...(forAdmin
      ? {
          chargeId: p.chargeId,
          card: { fingerprint: p.cardFingerprint, country: p.cardCountry },
          riskScore: p.riskScore,
          fraudRefusal: p.fraudRefusal,
        }
      : {}),
  };
}

export type PurchaseView = ReturnType<typeof purchaseView>;

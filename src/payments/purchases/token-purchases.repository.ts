import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../../database/sql';
import type { ChargeDetails } from '../stripe/stripe.gateway';
import type { PurchaseDestination } from './purchase-destination';
import type { DisputeStatus, PurchaseStatus } from './purchase-state';
import type { PurchaseTerms } from './purchase-terms';
import type { FraudRefusal, PurchaseRecord } from './purchase.record';

export interface TokenPurchaseRow {
  id: string;
  user_id: string;
  idempotency_key: string;
  package_id: string;
  destination: PurchaseDestination;
  price_cents: string;
  retail_price_cents: string | null;
  currency: string;
  credits: string;
  bonus_promo: string;
  status: PurchaseStatus;
  payment_intent_id: string | null;
  charge_id: string | null;
  card_fingerprint: string | null;
  card_country: string | null;
  risk_score: number | null;
  failure_code: string | null;
  failure_message: string | null;
  refunded_cents: string;
  dispute_id: string | null;
  dispute_status: DisputeStatus | null;
  granted_credits: string;
  granted_promo: string;
  clawed_earnings: string;
  clawed_debt: string;
  ledger_ops: number;
  fraud_refusal: FraudRefusal | null;
  review_hold_ids: string[];
  created_at: Date;
  updated_at: Date;
  paid_at: Date | null;
}

export function toPurchaseRecord(r: TokenPurchaseRow): PurchaseRecord {
  return {
    id: r.id,
    userId: r.user_id,
    packageId: r.package_id,
    destination: r.destination,
    priceCents: BigInt(r.price_cents),
    retailPriceCents: r.retail_price_cents === null ? null : BigInt(r.retail_price_cents),
    currency: r.currency,
    credits: BigInt(r.credits),
    bonusPromo: BigInt(r.bonus_promo),
    status: r.status,
    paymentIntentId: r.payment_intent_id ?? null,
    chargeId: r.charge_id ?? null,
    cardFingerprint: r.card_fingerprint ?? null,
    cardCountry: r.card_country ?? null,
    riskScore: r.risk_score ?? null,
    failureCode: r.failure_code ?? null,
    failureMessage: r.failure_message ?? null,
    refundedCents: BigInt(r.refunded_cents),
    disputeId: r.dispute_id ?? null,
    disputeStatus: r.dispute_status ?? null,
    grantedCredits: BigInt(r.granted_credits),
    grantedPromo: BigInt(r.granted_promo),
    clawedEarnings: BigInt(r.clawed_earnings),
    clawedDebt: BigInt(r.clawed_debt),
    ledgerOps: Number(r.ledger_ops),
    fraudRefusal: r.fraud_refusal ?? null,
    reviewHoldIds: r.review_hold_ids ?? [],
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    paidAt: r.paid_at ?? null,
  };
}

/** A new purchase: the buyer, their Idempotency-Key (kept for tracing), a copy of the package's terms and its PaymentIntent. */
export interface NewPurchase extends PurchaseTerms {
  id: string;
  userId: string;
  idempotencyKey: string;
  paymentIntentId: string;
}

/** What applying one Stripe signal writes (see PurchaseSignalsService.apply). */
export interface PurchaseChange {
  status: PurchaseStatus;
  refundedCents: bigint;
  dispute: { id: string; status: DisputeStatus } | null;
  settled: Pick<PurchaseRecord, 'grantedCredits' | 'grantedPromo' | 'clawedEarnings' | 'clawedDebt' | 'ledgerOps' | 'reviewHoldIds'>;
  /** The signal proves the charge was paid: `paid_at` is set once. */
  paid: boolean;
  /** Kept when already known, like the charge's details. */
  paymentIntentId: string | null;
  /** Set when the purchase failed on this signal. */
  failure: { code: string | null; message: string | null } | null;
  charge: Pick<ChargeDetails, 'chargeId' | 'cardFingerprint' | 'cardCountry' | 'riskScore'> | null;
  /** Set when the fraud checks refused the purchase on this change (a refusal is final). */
  refusal: FraudRefusal | null;
}

/** `token_purchases`. */
@Injectable()
export class TokenPurchasesRepository {
  async find(db: EntityManager | DataSource, id: string): Promise<PurchaseRecord | undefined> {
    const rows = await queryRows<TokenPurchaseRow>(db, 'SELECT * FROM token_purchases WHERE id = $1', [id]);
    return rows[0] && toPurchaseRecord(rows[0]);
  }

  /** Reads a purchase and locks its row until `em`'s transaction ends. */
  async lock(em: EntityManager, id: string): Promise<PurchaseRecord | undefined> {
    const rows = await queryRows<TokenPurchaseRow>(em, 'SELECT * FROM token_purchases WHERE id = $1 FOR UPDATE', [id]);
    return rows[0] && toPurchaseRecord(rows[0]);
  }

  /** Reads purchases and locks their rows (in id order) until `em`'s transaction ends. */
  async lockMany(em: EntityManager, ids: string[]): Promise<Map<string, PurchaseRecord>> {
    const rows = await queryRows<TokenPurchaseRow>(
      em,
      'SELECT * FROM token_purchases WHERE id = ANY ($1::uuid[]) ORDER BY id FOR UPDATE',
      [ids],
      {
        prepare: true,
      },
    );
    return new Map(rows.map((r) => [r.id, toPurchaseRecord(r)]));
  }

  async findByPaymentIntent(db: EntityManager | DataSource, paymentIntentId: string): Promise<PurchaseRecord | undefined> {
    const rows = await queryRows<TokenPurchaseRow>(db, 'SELECT * FROM token_purchases WHERE payment_intent_id = $1', [paymentIntentId]);
    return rows[0] && toPurchaseRecord(rows[0]);
  }

  async insert(em: EntityManager, p: NewPurchase, now: Date): Promise<PurchaseRecord> {
    const [row] = await queryRows<TokenPurchaseRow>(
      em,
      `INSERT INTO token_purchases (id, user_id, idempotency_key, package_id, price_cents, currency, credits, bonus_promo, payment_intent_id,
                                    created_at, updated_at, destination, retail_price_cents)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12) RETURNING *`,
      [
        p.id,
        p.userId,
        p.idempotencyKey,
        p.packageId,
        p.priceCents.toString(),
        p.currency,
        p.credits.toString(),
        p.bonusPromo.toString(),
        p.paymentIntentId,
        now,
        p.destination,
        p.retailPriceCents?.toString() ?? null,
      ],
    );
    return toPurchaseRecord(row);
  }

  async applyChange(em: EntityManager, id: string, c: PurchaseChange, now: Date): Promise<PurchaseRecord> {
    const [row] = await queryRows<TokenPurchaseRow>(
      em,
      `UPDATE token_purchases SET
         status = $2, refunded_cents = $3, dispute_id = $4, dispute_status = $5,
         granted_credits = $6, granted_promo = $7, clawed_earnings = $8, ledger_ops = $9,
         paid_at = CASE WHEN $10 THEN COALESCE(paid_at, $11) ELSE paid_at END,
         payment_intent_id = COALESCE(payment_intent_id, $12),
         failure_code = CASE WHEN $13 THEN $14 ELSE failure_code END,
         failure_message = CASE WHEN $13 THEN $15 ELSE failure_message END,
         charge_id = COALESCE(charge_id, $16), card_fingerprint = COALESCE(card_fingerprint, $17),
         card_country = COALESCE(card_country, $18), risk_score = COALESCE(risk_score, $19),
         fraud_refusal = COALESCE(fraud_refusal, $20), review_hold_ids = $21::uuid[], clawed_debt = $22,
         updated_at = $11
       WHERE id = $1 RETURNING *`,
      [
        id,
        c.status,
        c.refundedCents.toString(),
        c.dispute?.id ?? null,
        c.dispute?.status ?? null,
        c.settled.grantedCredits.toString(),
        c.settled.grantedPromo.toString(),
        c.settled.clawedEarnings.toString(),
        c.settled.ledgerOps,
        c.paid,
        now,
        c.paymentIntentId,
        c.failure !== null,
        c.failure?.code ?? null,
        c.failure?.message ?? null,
        c.charge?.chargeId ?? null,
        c.charge?.cardFingerprint ?? null,
        c.charge?.cardCountry ?? null,
        c.charge?.riskScore ?? null,
        c.refusal,
        c.settled.reviewHoldIds,
        c.settled.clawedDebt.toString(),
      ],
    );
    return toPurchaseRecord(row);
  }

  /** The review holds are released: what they kept is spendable. */
  async clearReviewHolds(em: EntityManager, id: string, now: Date): Promise<void> {
    await queryRows(em, `UPDATE token_purchases SET review_hold_ids = '{}', updated_at = $2 WHERE id = $1`, [id, now]);
  }

  /** Refused purchases whose payment is still to be refunded, last changed before `before` (at most 500). */
  async refundsDue(db: EntityManager | DataSource, before: Date): Promise<string[]> {
    const rows = await queryRows<{ id: string }>(
      db,
      `SELECT id FROM token_purchases
        WHERE fraud_refusal IS NOT NULL AND paid_at IS NOT NULL AND refunded_cents < price_cents AND dispute_id IS NULL
          AND updated_at < $1
        ORDER BY updated_at LIMIT 500`,
      [before],
    );
    return rows.map((r) => r.id);
  }
}

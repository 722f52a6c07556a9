import { DataSource, EntityManager } from 'typeorm';
import { amountToJson } from '../../common/money';
import { queryRows } from '../../database/sql';
import type { DisputeStatus, PurchaseStatus } from './purchase-state';

export interface PurchaseRecord {
  id: string;
  userId: string;
  packageId: string;
  priceCents: bigint;
  currency: string;
  credits: bigint;
  bonusPromo: bigint;
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
  ledgerOps: number;
  createdAt: Date;
  updatedAt: Date;
  paidAt: Date | null;
}

type Row = Record<string, unknown>;

export function toPurchaseRecord(r: Row): PurchaseRecord {
  return {
    id: r.id as string,
    userId: r.user_id as string,
    packageId: r.package_id as string,
    priceCents: BigInt(r.price_cents as string),
    currency: r.currency as string,
    credits: BigInt(r.credits as string),
    bonusPromo: BigInt(r.bonus_promo as string),
    status: r.status as PurchaseStatus,
    paymentIntentId: (r.payment_intent_id as string | null) ?? null,
    chargeId: (r.charge_id as string | null) ?? null,
    cardFingerprint: (r.card_fingerprint as string | null) ?? null,
    cardCountry: (r.card_country as string | null) ?? null,
    riskScore: (r.risk_score as number | null) ?? null,
    failureCode: (r.failure_code as string | null) ?? null,
    failureMessage: (r.failure_message as string | null) ?? null,
    refundedCents: BigInt(r.refunded_cents as string),
    disputeId: (r.dispute_id as string | null) ?? null,
    disputeStatus: (r.dispute_status as DisputeStatus | null) ?? null,
    grantedCredits: BigInt(r.granted_credits as string),
    grantedPromo: BigInt(r.granted_promo as string),
    clawedEarnings: BigInt(r.clawed_earnings as string),
    ledgerOps: Number(r.ledger_ops),
    createdAt: r.created_at as Date,
    updatedAt: r.updated_at as Date,
    paidAt: (r.paid_at as Date | null) ?? null,
  };
}

/** Loads a purchase; with `lock`, holds its row until the caller's transaction ends. */
export async function loadPurchase(db: EntityManager | DataSource, id: string, lock = false): Promise<PurchaseRecord | undefined> {
  const rows = await queryRows(db, `SELECT * FROM token_purchases WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
  return rows[0] ? toPurchaseRecord(rows[0]) : undefined;
}

export async function findPurchaseByPaymentIntent(
  db: EntityManager | DataSource,
  paymentIntentId: string,
): Promise<PurchaseRecord | undefined> {
  const rows = await queryRows(db, 'SELECT * FROM token_purchases WHERE payment_intent_id = $1', [paymentIntentId]);
  return rows[0] ? toPurchaseRecord(rows[0]) : undefined;
}

/** The client's view of a purchase; admins also see the payment's risk facts. */
export function purchaseView(p: PurchaseRecord, forAdmin: boolean) {
  return {
    id: p.id,
    userId: p.userId,
    packageId: p.packageId,
    status: p.status,
    priceCents: amountToJson(p.priceCents),
    currency: p.currency,
    credits: amountToJson(p.credits),
    bonusPromo: amountToJson(p.bonusPromo),
    paymentIntentId: p.paymentIntentId,
    refundedCents: amountToJson(p.refundedCents),
    creditsGranted: amountToJson(p.grantedCredits),
    promoGranted: amountToJson(p.grantedPromo),
    dispute: p.disputeId ? { id: p.disputeId, status: p.disputeStatus } : null,
    failure: p.failureCode || p.failureMessage ? { code: p.failureCode, message: p.failureMessage } : null,
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
    paidAt: p.paidAt?.toISOString() ?? null,
    ...(forAdmin ? { chargeId: p.chargeId, card: { fingerprint: p.cardFingerprint, country: p.cardCountry }, riskScore: p.riskScore } : {}),
  };
}

export type PurchaseView = ReturnType<typeof purchaseView>;

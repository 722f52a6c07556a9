import { Injectable } from '@nestjs/common';
import Stripe from 'stripe';
import type { AppError } from '../../common/errors';
import { PaymentsErrors } from '../payments.errors';
import { StripeConnection } from './stripe.connection';

/** The card and Radar facts of a charge that the fraud rules read. */
export interface ChargeDetails {
  chargeId: string;
  paymentIntentId: string | null;
  amount: bigint;
  currency: string;
  amountRefunded: bigint;
  fullyRefunded: boolean;
  cardFingerprint: string | null;
  cardCountry: string | null;
  riskScore: number | null;
}

export function chargeDetails(ch: Stripe.Charge): ChargeDetails {
  const card = ch.payment_method_details?.card;
  const risk = ch.outcome?.risk_score;
  return {
    chargeId: ch.id,
    paymentIntentId: typeof ch.payment_intent === 'string' ? ch.payment_intent : (ch.payment_intent?.id ?? null),
    amount: BigInt(ch.amount),
    currency: ch.currency,
    amountRefunded: BigInt(ch.amount_refunded),
    fullyRefunded: ch.refunded || ch.amount_refunded >= ch.amount,
    cardFingerprint: card?.fingerprint ?? null,
    cardCountry: card?.country ? card.country.toUpperCase() : null,
    riskScore: typeof risk === 'number' && Number.isInteger(risk) && risk >= 0 && risk <= 100 ? risk : null,
  };
}

/** Everything Bazaar asks of Stripe, through the official SDK. */
@Injectable()
export class StripeGateway {
  constructor(private readonly connection: StripeConnection) {}

  private get stripe(): Stripe {
    return this.connection.stripe;
  }

  /**
   * Idempotent on our purchase id: a retried request gets the same PaymentIntent back; the id with
   * other terms (another package under the buyer's Idempotency-Key) is IDEMPOTENCY_KEY_REUSED.
   */
  async createPaymentIntent(p: {
    purchaseId: string;
    userId: string;
    packageId: string;
    amountCents: bigint;
    currency: string;
    description: string;
  }): Promise<{ id: string; clientSecret: string }> {
    const pi = await this.call(
      () =>
        this.stripe.paymentIntents.create(
          {
            amount: Number(p.amountCents),
            currency: p.currency.toLowerCase(),
            description: p.description,
            automatic_payment_methods: { enabled: true },
            metadata: { purchase_id: p.purchaseId, user_id: p.userId, package_id: p.packageId },
          },
          { idempotencyKey: `token_purchase:${p.purchaseId}` },
        ),
      PaymentsErrors.idempotencyKeyReused,
    );
    if (!pi.client_secret) throw PaymentsErrors.noClientSecret();
    return { id: pi.id, clientSecret: pi.client_secret };
  }

  async retrieveCharge(chargeId: string): Promise<ChargeDetails> {
    return chargeDetails(await this.call(() => this.stripe.charges.retrieve(chargeId)));
  }

  /** Refunds whatever is left of the payment; idempotent on our purchase id. */
  async refundPayment(p: { purchaseId: string; paymentIntentId: string }): Promise<{ id: string; status: string | null; amount: bigint }> {
    const refund = await this.call(() =>
      this.stripe.refunds.create(
        { payment_intent: p.paymentIntentId, reason: 'requested_by_customer', metadata: { purchase_id: p.purchaseId } },
        { idempotencyKey: `token_purchase:${p.purchaseId}:refund` },
      ),
    );
    return { id: refund.id, status: refund.status, amount: BigInt(refund.amount) };
  }

  /** Verifies `Stripe-Signature` over the exact bytes received; 400 on anything wrong. */
  verifyEvent(rawBody: Buffer | undefined, signature: string | string[] | undefined): Stripe.Event {
    if (!rawBody || rawBody.length === 0 || typeof signature !== 'string' || signature.length === 0) {
      throw PaymentsErrors.webhookUnsigned();
    }
    try {
      return this.stripe.webhooks.constructEvent(rawBody, signature, this.connection.webhookSecret);
    } catch (err) {
      if (err instanceof Stripe.errors.StripeSignatureVerificationError) {
        throw PaymentsErrors.webhookSignatureMismatch();
      }
      throw PaymentsErrors.webhookUnreadable();
    }
  }

  /**
   * Stripe's answers to our idempotency keys become ours: a request with the key still running at
   * Stripe (after the SDK's retries) is IDEMPOTENCY_IN_PROGRESS; the key used with other parameters
   * is `onKeyReused`, where the caller says what that means.
   */
  private async call<T>(request: () => Promise<T>, onKeyReused?: () => AppError): Promise<T> {
    try {
      return await request();
    } catch (err) {
      if (err instanceof Stripe.errors.StripeError) {
        if (err.code === 'idempotency_key_in_use') throw PaymentsErrors.stripeKeyInUse();
        if (err instanceof Stripe.errors.StripeIdempotencyError && onKeyReused) throw onKeyReused();
        throw PaymentsErrors.stripeFailed(err.message, err.code ?? err.type);
      }
      throw err;
    }
  }
}

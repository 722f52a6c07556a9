import { AppError, invalidState, notFound } from '../common/errors';

/** The payments module's errors. Codes are the application's stable codes (common/errors.ts). */
export const PaymentsErrors = {
  packageNotFound(): AppError {
    return notFound('Token package');
  },
  purchaseNotFound(): AppError {
    return notFound('Token purchase');
  },
  nothingToChange(): AppError {
    return new AppError('VALIDATION_FAILED', 'Nothing to change', {}, [{ field: 'body', message: 'must name at least one field' }]);
  },
  packageNotOnSale(): AppError {
    return invalidState('This token package is not on sale');
  },
  resellerPackageWithPromo(): AppError {
    return new AppError('VALIDATION_FAILED', 'A reseller package carries no bonus PROMO', {}, [
      { field: 'bonusPromo', message: 'must be 0 for a reseller package' },
    ]);
  },
  resellersOnly(): AppError {
    return new AppError('FORBIDDEN', 'Wholesale packages are sold to resellers only');
  },
  idempotencyKeyReused(): AppError {
    return new AppError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used for another package');
  },
  notRefundable(status: string): AppError {
    return invalidState(`Only a succeeded purchase can be refunded; this one is ${status}`);
  },
  refundNotMade(refundId: string, status: string | null): AppError {
    return new AppError('UPSTREAM_UNAVAILABLE', `Stripe did not refund the payment (refund ${refundId} is ${status})`);
  },

  // The purchase state machine: Stripe reported something it cannot apply.
  otherPaymentIntent(purchaseId: string, own: string, reported: string): AppError {
    return invalidState(`purchase ${purchaseId} belongs to ${own}, not ${reported}`);
  },
  otherAmount(purchaseId: string, own: { cents: bigint; currency: string }, reported: { cents: bigint; currency: string }): AppError {
    return invalidState(
      `purchase ${purchaseId} costs ${own.cents} ${own.currency}; Stripe reported ${reported.cents} ${reported.currency}`,
    );
  },
  otherDispute(own: string, reported: string): AppError {
    return invalidState(`purchase already has dispute ${own}; got ${reported}`);
  },
  disputeTransition(from: string, event: string): AppError {
    return invalidState(`dispute cannot go from ${from} on ${event}`);
  },
  statusTransition(from: string, event: string): AppError {
    return invalidState(`a ${from} token purchase cannot take ${event}`);
  },

  // Stripe.
  stripeFailed(message: string, stripeCode: string): AppError {
    return new AppError('UPSTREAM_UNAVAILABLE', `Stripe: ${message}`, { stripeCode });
  },
  stripeKeyInUse(): AppError {
    return new AppError('IDEMPOTENCY_IN_PROGRESS', 'Stripe is still processing a request with this idempotency key');
  },
  noClientSecret(): AppError {
    return new AppError('UPSTREAM_UNAVAILABLE', 'Stripe returned a PaymentIntent without a client secret');
  },
  webhookUnsigned(): AppError {
    return new AppError('WEBHOOK_SIGNATURE_INVALID', 'A signed Stripe event body and a Stripe-Signature header are required');
  },
  webhookSignatureMismatch(): AppError {
    return new AppError('WEBHOOK_SIGNATURE_INVALID', 'The Stripe-Signature header does not match the body');
  },
  webhookUnreadable(): AppError {
    return new AppError('WEBHOOK_SIGNATURE_INVALID', 'The Stripe event could not be read');
  },

  // The sandbox's dev routes.
  sandboxOff(): AppError {
    return new AppError('INVALID_STATE', 'The Stripe sandbox is off: STRIPE_SECRET_KEY is set, so events come from Stripe');
  },
  sandboxRefused(status: number, message: string): AppError {
    return new AppError(status === 404 ? 'NOT_FOUND' : 'INVALID_STATE', message);
  },
};

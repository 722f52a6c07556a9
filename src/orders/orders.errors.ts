import { AppError, notFound } from '../common/errors';
import { amountToJson } from '../common/money';

const limitExceeded = (detail: string, extra: Record<string, unknown>) => new AppError('LIMIT_EXCEEDED', detail, extra);
const invalid = (detail: string, field: string, message: string) => new AppError('VALIDATION_FAILED', detail, {}, [{ field, message }]);

/** The errors of purchases, refunds and credit gifts. Codes are the application's stable codes (common/errors.ts). */
export const OrdersErrors = {
  giftToSelf(): AppError {
    return invalid('A gift goes to someone else', 'giftToUserId', 'must not be yourself');
  },
  promoGift(): AppError {
    return invalid('PROMO credits pay only for items bought for yourself', 'payWith', 'PROMO cannot pay for a gift');
  },
  giftRecipientNotFound(): AppError {
    return notFound('Gift recipient');
  },
  listingNotFound(): AppError {
    return notFound('Listing');
  },
  notForSale(status: string): AppError {
    return new AppError('INVALID_STATE', 'This listing is not for sale', { status });
  },
  ownListing(): AppError {
    return new AppError('FORBIDDEN', 'You cannot buy your own listing');
  },
  alreadyOwned(gift: boolean): AppError {
    return new AppError('ALREADY_OWNED', gift ? 'The recipient already owns this item' : 'You already own this item');
  },
  orderNotFound(): AppError {
    return notFound('Order');
  },

  creditsToSelf(): AppError {
    return invalid('Credits cannot be gifted to yourself', 'toUserId', 'must not be yourself');
  },
  creditRecipientNotFound(): AppError {
    return notFound('Recipient');
  },
  /** Resellers never receive credits from users (they sell credits; buying them back would launder them). */
  recipientIsReseller(): AppError {
    return new AppError('RECIPIENT_NOT_ALLOWED', 'Credits cannot be gifted to a reseller');
  },
  transferNotFound(): AppError {
    return notFound('Credit transfer');
  },
  emailNotVerified(): AppError {
    return new AppError('FORBIDDEN', 'Verify your email address before gifting credits', { reason: 'EMAIL_NOT_VERIFIED' });
  },
  giftBelowMin(min: number): AppError {
    return limitExceeded(`A gift is at least ${min} credits`, { limit: 'min', min });
  },
  giftAboveMax(max: number): AppError {
    return limitExceeded(`A gift is at most ${max} credits`, { limit: 'max', max });
  },
  giftCapReached(cap: bigint, remaining: bigint): AppError {
    return limitExceeded(`At most ${cap} credits can be gifted in 30 days`, {
      limit: '30d',
      cap: Number(cap),
      remaining: amountToJson(remaining),
    });
  },
  recentlyBought(hours: number, giftable: bigint): AppError {
    return limitExceeded(`Credits bought in the last ${hours} ${hours === 1 ? 'hour' : 'hours'} cannot be gifted yet`, {
      limit: 'recent_purchase',
      giftable: amountToJson(giftable),
    });
  },
  walletShort(available: bigint): AppError {
    return new AppError('INSUFFICIENT_FUNDS', 'Not enough credits in the wallet', { available: amountToJson(available) });
  },
};

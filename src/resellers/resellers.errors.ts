import { AppError, notFound } from '../common/errors';
import type { EligibilityCheck } from './vetting/eligibility.policy';
import { amountToJson } from '../common/money';

const limitExceeded = (detail: string, extra: Record<string, unknown>) => new AppError('LIMIT_EXCEEDED', detail, extra);

/** The reseller program's errors. Codes are the application's stable codes (common/errors.ts). */
export const ResellersErrors = {
  resellerNotFound(): AppError {
    return notFound('Reseller');
  },
  notTakingOrders(reason: string, extra: Record<string, unknown> = {}): AppError {
    return new AppError('INVALID_STATE', 'This reseller is not taking new orders', { reason, ...extra });
  },

  orderNotFound(): AppError {
    return notFound('Reseller order');
  },
  orderToSelf(): AppError {
    return new AppError('VALIDATION_FAILED', 'A reseller cannot open an order with itself', {}, [
      { field: 'resellerId', message: 'must not be yourself' },
    ]);
  },
  buyerIsReseller(): AppError {
    return new AppError('FORBIDDEN', 'Resellers do not buy credits from other resellers', { reason: 'BUYER_IS_RESELLER' });
  },
  wrongParty(action: string, party: 'buyer' | 'reseller'): AppError {
    return new AppError('FORBIDDEN', `Only the order's ${party} may ${action} it`, { reason: 'WRONG_PARTY', party });
  },
  ownOrder(): AppError {
    return new AppError('FORBIDDEN', 'An admin cannot resolve an order they are a party to', { reason: 'OWN_ORDER' });
  },
  cancelReasonRequired(): AppError {
    return new AppError('VALIDATION_FAILED', 'A reseller cancelling an order gives a reason', {}, [
      { field: 'reason', message: 'is required when the reseller cancels' },
    ]);
  },
  orderBelowMin(min: number): AppError {
    return limitExceeded(`An order is at least ${min} credits`, { limit: 'min', min });
  },
  orderAboveMax(max: bigint, probation: boolean): AppError {
    return limitExceeded(`An order with this reseller is at most ${max} credits`, { limit: 'max', max: amountToJson(max), probation });
  },
  dailyLimit(max: bigint, remaining: bigint, probation: boolean): AppError {
    return limitExceeded(`This reseller takes at most ${max} credits of orders in 24 hours`, {
      limit: 'daily',
      max: amountToJson(max),
      remaining: amountToJson(remaining < 0n ? 0n : remaining),
      probation,
    });
  },
  buyerOpenOrders(max: number): AppError {
    return limitExceeded(`At most ${max} unpaid reseller orders at once`, { limit: 'buyer_open_orders', max });
  },
  orderExpired(): AppError {
    return new AppError('INVALID_STATE', 'The order expired unpaid', { status: 'open', reason: 'expired' });
  },
  disputeWindowClosed(until: Date): AppError {
    return new AppError('INVALID_STATE', 'The time to dispute this confirmed order has passed', {
      status: 'confirmed',
      reason: 'dispute_window_closed',
      until: until.toISOString(),
    });
  },
  alreadyDisputed(): AppError {
    return new AppError('INVALID_STATE', 'This order was disputed once already', { status: 'confirmed', reason: 'already_disputed' });
  },

  notConfirmable(): AppError {
    return new AppError('INVALID_STATE', 'A confirmation of this order was refused in a fraud review: an admin decides it', {
      reason: 'confirmation_refused',
    });
  },

  notAReseller(): AppError {
    return new AppError('FORBIDDEN', 'Only resellers keep a bond', { reason: 'NOT_A_RESELLER' });
  },
  bondNotLockable(status: string): AppError {
    return new AppError('INVALID_STATE', 'A revoked reseller cannot lock a bond', { status });
  },
  bondNotReleasable(reason: string, extra: Record<string, unknown> = {}): AppError {
    return new AppError('CONFLICT', `The bond cannot be released: ${reason.replace(/_/g, ' ')}`, { reason, ...extra });
  },
  applicationNotFound(): AppError {
    return notFound('Reseller application');
  },
  notEligible(failed: EligibilityCheck[]): AppError {
    return new AppError('NOT_ELIGIBLE', `Not eligible to resell: ${failed.map((c) => c.check).join(', ')}`, { checks: failed });
  },
  applicationOpen(): AppError {
    return new AppError('CONFLICT', 'You already have a reseller application in progress', { reason: 'APPLICATION_OPEN' });
  },
  alreadyReseller(status: string): AppError {
    return new AppError('CONFLICT', 'You are a reseller already', { reason: 'ALREADY_RESELLER', status });
  },
  ownApplication(): AppError {
    return new AppError('FORBIDDEN', 'Nobody decides their own reseller application', { reason: 'OWN_APPLICATION' });
  },
  sameAdmin(): AppError {
    return new AppError('FORBIDDEN', 'The second approval must come from a different admin', { reason: 'SAME_ADMIN' });
  },
  fraudReviewOpen(reviewId: string): AppError {
    return new AppError('CONFLICT', 'The fraud review of this application is still open', { reason: 'FRAUD_REVIEW_OPEN', reviewId });
  },
  capReached(cap: number): AppError {
    return new AppError('LIMIT_EXCEEDED', `The program has its ${cap} resellers already`, { limit: 'cap', cap });
  },
  stillFlagged(flags: string[]): AppError {
    return new AppError('INVALID_STATE', 'The account is still flagged', { reason: 'FLAGGED', flags });
  },
  revokedNotRenewable(): AppError {
    return new AppError('INVALID_STATE', 'A revoked reseller is not vetted again; it applies again', { status: 'revoked' });
  },
  notActiveReseller(): AppError {
    return new AppError('FORBIDDEN', 'Only an active reseller may do this', { reason: 'NOT_ACTIVE_RESELLER' });
  },
};

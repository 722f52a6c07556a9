import { AppError, notFound } from '../common/errors';
import type { EligibilityCheck } from './eligibility.policy';

/** The reseller program's errors. Codes are the application's stable codes (common/errors.ts). */
export const ResellersErrors = {
  resellerNotFound(): AppError {
    return notFound('Reseller');
  },
  notTakingOrders(reason: string): AppError {
    return new AppError('INVALID_STATE', 'This reseller is not taking new orders', { reason });
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
  notAReseller(): AppError {
    return new AppError('FORBIDDEN', 'Only an active reseller may do this', { reason: 'NOT_ACTIVE_RESELLER' });
  },
};

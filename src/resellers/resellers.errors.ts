import { AppError, notFound } from '../common/errors';

/** The reseller program's errors. Codes are the application's stable codes (common/errors.ts). */
export const ResellersErrors = {
  resellerNotFound(): AppError {
    return notFound('Reseller');
  },
  notTakingOrders(reason: string): AppError {
    return new AppError('INVALID_STATE', 'This reseller is not taking new orders', { reason });
  },
};

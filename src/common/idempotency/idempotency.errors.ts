import { AppError } from '../errors';

/** The errors of idempotency keys. Codes are the application's stable codes (common/errors.ts). */
export const IdempotencyErrors = {
  keyRequired(): AppError {
    return new AppError('IDEMPOTENCY_KEY_REQUIRED', 'An Idempotency-Key header of 1-255 visible ASCII characters is required', {}, [
      { field: 'Idempotency-Key', message: 'must be 1-255 visible ASCII characters' },
    ]);
  },
  unauthenticated(): AppError {
    return new AppError('UNAUTHENTICATED', 'Authentication required');
  },
  inProgress(): AppError {
    return new AppError('IDEMPOTENCY_IN_PROGRESS', 'A request with this Idempotency-Key is still being processed');
  },
  keyReused(): AppError {
    return new AppError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with a different request');
  },
};

import { AppError, FieldError } from '../common/errors';
import { PgError, pgCode, pgConstraint } from '../database/pg-errors';

/** The ledger's errors. Codes are the application's stable codes (common/errors.ts). */
export const LedgerErrors = {
  invalid(detail: string, field: string): AppError {
    const errors: FieldError[] = [{ field, message: detail }];
    return new AppError('VALIDATION_FAILED', detail, {}, errors);
  },
  unknownAccount(field: string): AppError {
    return new AppError('VALIDATION_FAILED', `${field} is not a known ledger account`, { reason: 'LEDGER_UNKNOWN_ACCOUNT' }, [
      { field, message: 'is not a known ledger account' },
    ]);
  },
  unbalanced(asset: string): AppError {
    return new AppError('VALIDATION_FAILED', `postings do not sum to zero in ${asset}`, { reason: 'LEDGER_UNBALANCED', asset }, [
      { field: 'postings', message: `do not sum to zero in ${asset}` },
    ]);
  },
  insufficientFunds(account: string, asset: string): AppError {
    return new AppError('INSUFFICIENT_FUNDS', `Not enough ${asset} available in ${account}`, { account, asset });
  },
  referenceConflict(reference: string): AppError {
    return new AppError('CONFLICT', `Ledger reference ${reference} was already used with different content`, {
      reason: 'LEDGER_REFERENCE_CONFLICT',
      reference,
    });
  },
  holdNotFound(): AppError {
    return new AppError('NOT_FOUND', 'Hold not found');
  },
};

/**
 * Maps the database's refusals (the last line of defence behind the application checks) to coded
 * errors; anything else is rethrown untouched.
 */
export function mapLedgerDbError(err: unknown): unknown {
  const code = pgCode(err);
  const constraint = pgConstraint(err);
  if (code === PgError.CHECK_VIOLATION && constraint === 'ledger_balances_non_negative') {
    return new AppError('INSUFFICIENT_FUNDS', 'Not enough funds available');
  }
  if (code === PgError.NUMERIC_VALUE_OUT_OF_RANGE) {
    return new AppError('LIMIT_EXCEEDED', 'The resulting balance is out of range');
  }
  return err;
}

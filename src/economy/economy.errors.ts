import { AppError } from '../common/errors';

export const EconomyErrors = {
  rangeInvalid(detail: string, field: string): AppError {
    return new AppError('REPORT_RANGE_INVALID', detail, {}, [{ field, message: detail }]);
  },
  /** The report's supply disagrees with the ledger's own sums: never shown as if it were true. */
  supplyMismatch(mismatches: string[]): AppError {
    return new AppError('SUPPLY_MISMATCH', `the supply read from the ledger's postings disagrees with its sums: ${mismatches.join('; ')}`);
  },
};

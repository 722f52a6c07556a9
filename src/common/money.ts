import { AppError } from './errors';

/** Largest amount accepted anywhere: fits a PostgreSQL bigint and is exact as a JS number. */
export const MAX_AMOUNT = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * The one checked conversion into an amount. Accepts bigint, safe integers and digit strings
 * (what `pg` returns for bigint columns); anything else is a VALIDATION_FAILED error.
 */
export function toAmount(value: unknown, field = 'amount'): bigint {
  let v: bigint | undefined;
  if (typeof value === 'bigint') v = value;
  else if (typeof value === 'number' && Number.isSafeInteger(value)) v = BigInt(value);
  else if (typeof value === 'string' && /^-?\d{1,19}$/.test(value)) v = BigInt(value);
  if (v === undefined || v > MAX_AMOUNT || v < -MAX_AMOUNT) {
    throw new AppError('VALIDATION_FAILED', `${field} must be an integer amount`, {}, [{ field, message: 'must be an integer amount' }]);
  }
  return v;
}

/** An amount as a JSON number; amounts are bounded by MAX_AMOUNT so this is exact. */
export function amountToJson(value: bigint | string | number): number {
  return Number(toAmount(value));
}

import { AppError } from './errors';
import { decodeCursor } from './pagination';
import { PgError, pgCode } from '../database/pg-errors';

const badCursor = (): AppError =>
  new AppError('VALIDATION_FAILED', 'cursor is not valid', {}, [{ field: 'cursor', message: 'is not valid' }]);

/** The bigserial id a page continues after, or null for the first page. */
export function serialCursor(cursor: string | undefined): string | null {
  const key = decodeCursor(cursor, 1);
  if (key === undefined) return null;
  const id = String(key[0]);
  if (!/^\d{1,18}$/.test(id)) throw badCursor();
  return id;
}

// invalid_text_representation, invalid_datetime_format, datetime_field_overflow
const BAD_VALUE = new Set<string>([PgError.INVALID_TEXT_REPRESENTATION, '22007', '22008']);

/** A (timestamp, uuid) cursor whose values PostgreSQL cannot parse (a forged one) is a client error, not a 500. */
export function rethrowBadCursor(err: unknown): never {
  const code = pgCode(err);
  if (code && BAD_VALUE.has(code)) throw badCursor();
  throw err;
}

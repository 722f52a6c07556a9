import { AppError } from './errors';

/** What one unit of work of a batch came to: its result, or the error refusing it alone. */
export type Outcome<T, E = AppError> = { ok: T } | { error: E };

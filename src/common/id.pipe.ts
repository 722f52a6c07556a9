import { ParseUUIDPipe } from '@nestjs/common';
import { AppError } from './errors';

/** A path id that must be a UUID; anything else is a VALIDATION_FAILED naming the parameter. */
export const idPipe = (field = 'id'): ParseUUIDPipe =>
  new ParseUUIDPipe({
    exceptionFactory: () => new AppError('VALIDATION_FAILED', `${field} must be a UUID`, {}, [{ field, message: 'must be a UUID' }]),
  });

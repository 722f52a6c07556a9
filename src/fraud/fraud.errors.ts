import { AppError, FieldError } from '../common/errors';
import { LIST_TYPES } from './fraud.types';

/** The fraud module's errors (codes in common/errors.ts). */
export const FraudErrors = {
  /** Generic on purpose: the client never learns which rule refused it. */
  blocked(): AppError {
    return new AppError('FRAUD_BLOCKED', 'This action was refused by the fraud checks');
  },
  invalidRule(errors: FieldError[]): AppError {
    return new AppError('VALIDATION_FAILED', errors.map((e) => `${e.field} ${e.message}`).join('; '), {}, errors);
  },
  ruleNotFound(): AppError {
    return new AppError('NOT_FOUND', 'Fraud rule not found');
  },
  ruleNameTaken(name: string): AppError {
    return new AppError('CONFLICT', `A fraud rule named ${name} exists`, { name });
  },
  reviewNotFound(): AppError {
    return new AppError('NOT_FOUND', 'Fraud review not found');
  },
  decisionNotFound(): AppError {
    return new AppError('NOT_FOUND', 'Fraud decision not found');
  },
  listEntryNotFound(): AppError {
    return new AppError('NOT_FOUND', 'List entry not found');
  },
  listEntryExists(type: string, value: string): AppError {
    return new AppError('CONFLICT', `${value} is on the ${type} list already`, { type, value });
  },
  userNotFound(): AppError {
    return new AppError('NOT_FOUND', 'User not found');
  },
  noReviewHandler(eventType: string): AppError {
    return new AppError('INVALID_STATE', `Reviews of ${eventType} events cannot be decided here`, { eventType });
  },
  nothingToChange(): AppError {
    return new AppError('VALIDATION_FAILED', 'Give at least one field to change', {}, [{ field: 'body', message: 'is empty' }]);
  },
  unknownListType(type: string): AppError {
    return new AppError('VALIDATION_FAILED', `There is no list named ${JSON.stringify(type.slice(0, 40))}`, {}, [
      { field: 'type', message: `must be one of ${LIST_TYPES.join(', ')}` },
    ]);
  },
  invalidField(field: string, message: string): AppError {
    return new AppError('VALIDATION_FAILED', `${field} ${message}`, {}, [{ field, message }]);
  },
};

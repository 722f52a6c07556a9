import { dictionary } from '@zxcvbn-ts/language-common';
import { registerDecorator, ValidationOptions } from 'class-validator';
import { IdentityErrors } from '../identity.errors';

export const PASSWORD_MIN_CHARS = 8;
export const PASSWORD_MAX_CHARS = 128;

let commonPasswords: Set<string> | undefined;

/** ~49,000 common passwords (lower case), loaded once on first use. */
function common(): Set<string> {
  commonPasswords ??= new Set(dictionary['passwords-common']);
  return commonPasswords;
}

/**
 * Passwords are compared after NFKC normalization (NIST SP 800-63B), so the same password typed on
 * two keyboards that encode an accented letter differently still matches.
 */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/** Why a new password is not acceptable, or undefined. Length counts characters, not UTF-16 units. */
export function passwordProblem(password: string): string | undefined {
  const normalized = normalizePassword(password);
  const length = [...normalized].length;
  if (length < PASSWORD_MIN_CHARS) return `must be at least ${PASSWORD_MIN_CHARS} characters long`;
  if (length > PASSWORD_MAX_CHARS) return `must be at most ${PASSWORD_MAX_CHARS} characters long`;
  if (common().has(normalized.toLowerCase())) return 'is too common; choose a less predictable password';
  return undefined;
}

export function assertAcceptablePassword(password: string, field = 'password'): void {
  const problem = passwordProblem(password);
  if (problem) throw IdentityErrors.unacceptablePassword(field, problem);
}

/** class-validator decorator for a new password (length and common-password list; no composition rules). */
export function IsAcceptablePassword(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'isAcceptablePassword',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) => typeof value === 'string' && passwordProblem(value) === undefined,
        defaultMessage: (args) => `${args?.property} ${typeof args?.value === 'string' ? passwordProblem(args.value) : 'must be a string'}`,
      },
    });
  };
}

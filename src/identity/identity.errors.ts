import { AppError, FieldError, notFound } from '../common/errors';

const invalid = (field: string, message: string, detail = message): AppError => {
  const errors: FieldError[] = [{ field, message }];
  return new AppError('VALIDATION_FAILED', detail, {}, errors);
};

/** The identity module's errors. Codes are the application's stable codes (common/errors.ts). */
export const IdentityErrors = {
  userNotFound: (): AppError => notFound('User'),
  sessionNotFound: (): AppError => notFound('Session'),
  emailTaken: (): AppError => new AppError('CONFLICT', 'An account with this email already exists'),
  accountGone: (): AppError => new AppError('UNAUTHENTICATED', 'The account no longer exists'),
  /** Every failed password check looks the same, so it does not tell whether the email exists. */
  invalidCredentials: (): AppError => new AppError('INVALID_CREDENTIALS', 'The email or password is not correct'),
  wrongCode: (): AppError => new AppError('INVALID_CREDENTIALS', 'The code is not correct'),
  reauthProofMissing: (): AppError => invalid('password', 'exactly one of password or totp is required', 'Give either password or totp'),
  unacceptablePassword: (field: string, problem: string): AppError => invalid(field, `${field} ${problem}`),
  invalidToken: (): AppError => new AppError('INVALID_TOKEN', 'The token is not valid, has expired or was already used'),

  refreshTokenUnknown: (): AppError => new AppError('INVALID_TOKEN', 'The refresh token is not valid'),
  refreshTokenReused: (): AppError => new AppError('INVALID_TOKEN', 'This refresh token was already used; the session has been revoked'),
  refreshTokenExpired: (): AppError => new AppError('INVALID_TOKEN', 'The refresh token has expired'),
  refreshSessionEnded: (): AppError => new AppError('INVALID_TOKEN', 'The session has ended'),

  accessTokenMissing: (): AppError => new AppError('UNAUTHENTICATED', 'A valid bearer access token is required'),
  accessTokenInvalid: (): AppError => new AppError('UNAUTHENTICATED', 'The access token is not valid'),
  accessTokenExpired: (): AppError => new AppError('UNAUTHENTICATED', 'The access token has expired'),
  accessSessionEnded: (): AppError => new AppError('UNAUTHENTICATED', 'The session has ended'),
  routeUnmarked: (): AppError => new AppError('FORBIDDEN', 'This route is not available'),
  roleRequired: (roles: string[]): AppError => new AppError('FORBIDDEN', `Requires one of the roles: ${roles.join(', ')}`),
  reauthRequired: (): AppError => new AppError('REAUTH_REQUIRED', 'Confirm your password (POST /auth/reauth) to continue'),

  roleChangeInvalid: (field: 'add' | 'remove', message: string): AppError => invalid(field, message),
  roleNotGrantable: (role: string): AppError =>
    new AppError('ROLE_NOT_GRANTABLE', `The ${role} role is granted and taken back only by its own flow, not by this route`, { role }),
  lastAdmin: (): AppError => new AppError('INVALID_STATE', 'The last admin cannot lose the admin role'),
  adminAccountKeptChanging: (): AppError =>
    new AppError('INVALID_STATE', 'The account kept changing while it was being checked; run again'),
  adminPasswordMismatch: (email: string): AppError =>
    new AppError(
      'INVALID_CREDENTIALS',
      `An account with the email ${email} already exists and the password given is not its password; only that account's own password grants it the admin role`,
    ),
};

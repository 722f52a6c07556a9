import { AppError, FieldError, notFound, rateLimited } from '../common/errors';
import { amountToJson } from '../common/money';

/** The account guard's errors. Codes are the application's stable codes (common/errors.ts). */
export const AccountGuardErrors = {
  /** With the action it refused, except for spending on oneself (which names none). */
  onHold: (action?: string): AppError =>
    new AppError('ACCOUNT_ON_HOLD', 'This account is on hold; contact support', action === undefined ? {} : { action }),
  frozen: (action: string, unfreezeAt: string | null): AppError =>
    new AppError('ACCOUNT_FROZEN', 'This account is frozen; no value can leave it', { action, unfreezeAt }),
  cooling: (action: string, until: string, reason: string | null): AppError =>
    new AppError('COOLING_PERIOD_ACTIVE', 'A recent security change pauses outgoing value for a while', { action, until, reason }),
  inDebt: (owed: bigint, asset: 'CREDIT' | 'PROMO'): AppError =>
    asset === 'CREDIT'
      ? new AppError('ACCOUNT_IN_DEBT', `The account owes ${owed} credits from a reversed payment; buy credits to repay it first`, {
          owed: amountToJson(owed),
        })
      : new AppError('ACCOUNT_IN_DEBT', `The account owes ${owed} PROMO from a reversed payment; later PROMO grants repay it first`, {
          owed: amountToJson(owed),
          asset,
        }),
  notFrozen: (): AppError => new AppError('INVALID_STATE', 'The account is not frozen'),

  userNotFound: (): AppError => notFound('User'),
  alreadyOnAdminHold: (): AppError => new AppError('INVALID_STATE', 'The account is already on hold by an admin'),
  noActiveAccountHold: (reference?: string): AppError =>
    new AppError('INVALID_STATE', reference ? `The account has no active hold ${reference}` : 'The account is not on hold'),
  invalidSystemAccountHold: (problems: FieldError[]): AppError => new AppError('VALIDATION_FAILED', 'Invalid system hold', {}, problems),

  networkThrottled: (retryAfterSeconds: number): AppError =>
    rateLimited('Too many failed sign-ins from this network; try again later', retryAfterSeconds),
  lockedUntilReset: (): AppError =>
    new AppError('ACCOUNT_LOCKED', 'This account is locked; reset the password to unlock it', { until: null }),
  lockedUntil: (until: Date): AppError =>
    new AppError('ACCOUNT_LOCKED', 'Too many failed attempts; try again later', { until: until.toISOString() }),

  stepUpRequired: (challengeId: string, method: 'totp' | 'email'): AppError =>
    new AppError('STEP_UP_REQUIRED', 'Confirm this sign-in with a second factor', { challengeId, methods: [method] }),
  /** Generic on purpose, like the fraud module's own refusal: the client never learns which rule refused it. */
  loginBlocked: (): AppError => new AppError('FRAUD_BLOCKED', 'This action was refused by the fraud checks'),
  challengeExpired: (): AppError => new AppError('INVALID_TOKEN', 'This sign-in challenge has expired or was used; sign in again'),
  wrongChallengeCode: (attemptsLeft: number): AppError => new AppError('INVALID_CREDENTIALS', 'The code is not correct', { attemptsLeft }),

  wrongTotpCode: (): AppError =>
    new AppError('VALIDATION_FAILED', 'The code is not correct', {}, [{ field: 'code', message: 'is not correct' }]),
  totpEnrolledAlready: (): AppError => new AppError('CONFLICT', 'Two-factor authentication is already on; disable it first'),
  totpOnAlready: (): AppError => new AppError('INVALID_STATE', 'Two-factor authentication is already on'),
  totpNotEnrolling: (): AppError => new AppError('INVALID_STATE', 'Start an enrolment first (POST /auth/2fa/totp/enroll)'),
  totpOff: (): AppError => new AppError('INVALID_STATE', 'Two-factor authentication is not on'),
};

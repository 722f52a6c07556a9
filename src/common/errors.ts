/**
 * Every error a client can see, with its HTTP status. Clients branch on `code`, so codes are stable:
 * add new ones, never rename. Modules add their own codes here (one list keeps the mapping exhaustive).
 */
export const ERROR_STATUS = {
  VALIDATION_FAILED: 400,
  REPORT_RANGE_INVALID: 400,
  MALFORMED_REQUEST: 400,
  WEBHOOK_SIGNATURE_INVALID: 400,
  UNAUTHENTICATED: 401,
  INVALID_CREDENTIALS: 401,
  STEP_UP_REQUIRED: 401,
  REAUTH_REQUIRED: 401,
  INVALID_TOKEN: 401,
  FORBIDDEN: 403,
  FRAUD_BLOCKED: 403,
  NOT_ELIGIBLE: 403,
  RECIPIENT_NOT_ALLOWED: 403,
  ROLE_NOT_GRANTABLE: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_TIMEOUT: 408,
  URI_TOO_LONG: 414,
  CONFLICT: 409,
  IDEMPOTENCY_IN_PROGRESS: 409,
  INSUFFICIENT_FUNDS: 409,
  ALREADY_OWNED: 409,
  INVALID_STATE: 409,
  LIMIT_EXCEEDED: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  IDEMPOTENCY_KEY_REUSED: 422,
  UNPROCESSABLE: 422,
  ACCOUNT_LOCKED: 423,
  ACCOUNT_FROZEN: 423,
  ACCOUNT_ON_HOLD: 423,
  COOLING_PERIOD_ACTIVE: 423,
  ACCOUNT_IN_DEBT: 423,
  IDEMPOTENCY_KEY_REQUIRED: 400,
  RATE_LIMITED: 429,
  HEADERS_TOO_LARGE: 431,
  INTERNAL: 500,
  SUPPLY_MISMATCH: 500,
  UPSTREAM_UNAVAILABLE: 502,
  SERVICE_UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface FieldError {
  field: string;
  message: string;
}

const TITLES: Partial<Record<ErrorCode, string>> = {
  VALIDATION_FAILED: 'The request is not valid',
  UNAUTHENTICATED: 'Authentication required',
  INVALID_CREDENTIALS: 'Invalid email or password',
  FORBIDDEN: 'Not allowed',
  NOT_FOUND: 'Not found',
  INTERNAL: 'Internal server error',
};

/** The one exception type of the application; the problem filter turns it into problem+json. */
export class AppError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    readonly detail?: string,
    /** Extra members of the problem document (for example `challengeId`, `until`). */
    readonly extra: Record<string, unknown> = {},
    readonly errors?: FieldError[],
  ) {
    super(detail ?? code);
    this.status = ERROR_STATUS[code];
  }

  get title(): string {
    return (
      TITLES[this.code] ??
      this.code
        .toLowerCase()
        .replace(/_/g, ' ')
        .replace(/^./, (c) => c.toUpperCase())
    );
  }
}

export const notFound = (what: string): AppError => new AppError('NOT_FOUND', `${what} not found`);
export const invalidState = (detail: string): AppError => new AppError('INVALID_STATE', detail);
/** 429: `retryAfter`, whole seconds until the limit frees, is also the response's `Retry-After` header (ProblemFilter). */
export const rateLimited = (detail: string, retryAfterSeconds: number): AppError =>
  new AppError('RATE_LIMITED', detail, { retryAfter: Math.max(1, retryAfterSeconds) });
/**
 * 503: the database is unreachable or restarting (the request changed nothing: its transaction did not
 * commit, so it may be sent again with the same Idempotency-Key); `Retry-After` as for a 429.
 */
export const databaseUnavailable = (): AppError =>
  new AppError('SERVICE_UNAVAILABLE', 'The database is unavailable for a moment; retry the request', { retryAfter: 1 });

import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ERROR_STATUS, ErrorCode } from './errors';

/** One error a route can answer: its code, or its code and when it happens. */
export type Problem = ErrorCode | [ErrorCode, string];

/** Any signed-in caller (`@Roles('buyer')`). */
export const SIGNED_IN: Problem[] = ['UNAUTHENTICATED'];
/** `@Roles('admin')`. */
export const ADMIN: Problem[] = ['UNAUTHENTICATED', ['FORBIDDEN', 'not an admin']];
/** `@Idempotent()`: the key's own problems. */
export const IDEMPOTENCY: Problem[] = ['IDEMPOTENCY_KEY_REQUIRED', 'IDEMPOTENCY_IN_PROGRESS', 'IDEMPOTENCY_KEY_REUSED'];
/** `@Sensitive()`. */
export const REAUTH: Problem = ['REAUTH_REQUIRED', 'no re-authentication (POST /auth/reauth) in the last minutes'];
/** For a route with no failure of its own to name. */
export const UNEXPECTED: Problem = ['INTERNAL', 'an unexpected failure (never with a stack trace)'];
/** AccountGuardService.assertMayMoveValue: what stops value leaving an account. */
export const ACCOUNT_STATE: Problem[] = ['ACCOUNT_ON_HOLD', 'ACCOUNT_FROZEN', 'COOLING_PERIOD_ACTIVE', 'ACCOUNT_IN_DEBT'];

const RETRY_AFTER_SCHEMA = { type: 'integer', minimum: 1, description: 'whole seconds until the limit frees', example: 3600 };
/** Every 429 carries it (ProblemFilter, from the problem's `retryAfter`). */
const RETRY_AFTER_HEADER = { 'Retry-After': { description: RETRY_AFTER_SCHEMA.description, schema: RETRY_AFTER_SCHEMA } };

function problemSchema(status: number, codes: ErrorCode[]) {
  return {
    type: 'object',
    required: ['type', 'title', 'status', 'code'],
    properties: {
      type: { type: 'string', example: 'about:blank' },
      title: { type: 'string' },
      status: { type: 'integer', example: status },
      code: { type: 'string', enum: codes, example: codes[0] },
      detail: { type: 'string' },
      requestId: { type: 'string' },
      errors: {
        type: 'array',
        description: 'VALIDATION_FAILED: the fields at fault',
        items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } },
      },
      ...(status === 429 ? { retryAfter: RETRY_AFTER_SCHEMA } : {}),
    },
  };
}

/**
 * OpenAPI error responses of a route: application/problem+json, one response per HTTP status (from
 * the code's ERROR_STATUS) listing its codes (the schema's `code` enum) and when each happens.
 */
export function ApiProblems(...problems: Problem[]): MethodDecorator {
  const byStatus = new Map<number, { codes: ErrorCode[]; notes: string[] }>();
  for (const p of problems) {
    const [code, when] = typeof p === 'string' ? [p, undefined] : p;
    const status = ERROR_STATUS[code];
    const entry = byStatus.get(status) ?? { codes: [], notes: [] };
    if (!entry.codes.includes(code)) entry.codes.push(code);
    entry.notes.push(when ? `${code} (${when})` : code);
    byStatus.set(status, entry);
  }
  return applyDecorators(
    ...[...byStatus].map(([status, { codes, notes }]) =>
      ApiResponse({
        status,
        description: `problem+json: ${notes.join('; ')}`,
        content: { 'application/problem+json': { schema: problemSchema(status, codes) } },
        ...(status === 429 ? { headers: RETRY_AFTER_HEADER } : {}),
      }),
    ),
  );
}

import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ERROR_STATUS, ErrorCode } from './errors';

/** One error a route can answer: its code, or its code and when it happens. */
export type Problem = ErrorCode | [ErrorCode, string];

/**
 * OpenAPI error responses of a route: application/problem+json, one response per HTTP status (from
 * the code's ERROR_STATUS) listing its codes and when each happens.
 */
export function ApiProblems(...problems: Problem[]): MethodDecorator {
  const byStatus = new Map<number, string[]>();
  for (const p of problems) {
    const [code, when] = typeof p === 'string' ? [p, undefined] : p;
    const status = ERROR_STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), when ? `${code} (${when})` : code]);
  }
  return applyDecorators(
    ...[...byStatus].map(([status, list]) =>
      ApiResponse({ status, description: `problem+json: ${list.join('; ')}`, content: { 'application/problem+json': {} } }),
    ),
  );
}

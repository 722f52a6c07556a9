import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';

/** The problem+json answers of a route, as `[status, 'CODE: when']` pairs for its OpenAPI description. */
export const ApiProblems = (...problems: [number, string][]): MethodDecorator =>
  applyDecorators(
    ...problems.map(([status, description]) => ApiResponse({ status, description: `application/problem+json — ${description}` })),
  );

export const UNAUTHENTICATED: [number, string] = [401, 'UNAUTHENTICATED'];
export const NOT_ADMIN: [number, string] = [403, 'FORBIDDEN: not an admin'];
export const INVALID: [number, string] = [400, 'VALIDATION_FAILED'];

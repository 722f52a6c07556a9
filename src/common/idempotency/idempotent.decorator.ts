import { applyDecorators, createParamDecorator, ExecutionContext, UseInterceptors } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import { IdempotencyInterceptor, IdempotentHttpRequest } from './idempotency.interceptor';
import type { IdempotentRequest } from './idempotency.service';
import { LegacyIdempotencyInterceptor } from './legacy/legacy-idempotency.interceptor';

export interface IdempotentOptions {
  /**
   * The service claims and completes the key inside its own transaction (IdempotencyService `run`, or
   * `claim`/`complete` in a batch, the request from `@IdempotentRequestOf()`) and returns an
   * IdempotentReplay for a repeated request. Without it, the legacy interceptor claims the key around
   * the handler (see legacy/).
   */
  inTransaction?: boolean;
}

/** The route requires an `Idempotency-Key` header and replays its first response for the same key. */
export const Idempotent = (options: IdempotentOptions = {}): MethodDecorator =>
  applyDecorators(
    ApiHeader({ name: 'Idempotency-Key', required: true, description: '1-255 characters, unique per operation' }),
    UseInterceptors(options.inTransaction ? IdempotencyInterceptor : LegacyIdempotencyInterceptor),
  );

/** The validated Idempotency-Key of the current request. */
export const IdempotencyKey = createParamDecorator((_: unknown, ctx: ExecutionContext): string => {
  return ctx.switchToHttp().getRequest<IdempotentHttpRequest>().idempotencyKey!;
});

/** The current request's key, hash and success status, for an `@Idempotent({ inTransaction: true })` route. */
export const IdempotentRequestOf = createParamDecorator((_: unknown, ctx: ExecutionContext): IdempotentRequest => {
  return ctx.switchToHttp().getRequest<IdempotentHttpRequest>().idempotentRequest!;
});

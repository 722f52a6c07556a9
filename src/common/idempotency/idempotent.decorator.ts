import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata, UseInterceptors } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import { IDEMPOTENT, IdempotencyInterceptor } from './idempotency.interceptor';
import type { IdempotentRequest } from './idempotency.service';

export interface IdempotentOptions {
  /**
   * The service claims and completes the key inside its own transaction (IdempotencyService
   * `claimInTransaction`/`completeInTransaction`, the request from `@IdempotentRequestOf()`) and returns an
   * IdempotentReplay for a repeated request; the interceptor only checks the header and sends replays.
   */
  inTransaction?: boolean;
}

/** The route requires an `Idempotency-Key` header and replays its first response for the same key. */
export const Idempotent = (options: IdempotentOptions = {}): MethodDecorator =>
  applyDecorators(
    SetMetadata(IDEMPOTENT, options.inTransaction ? 'in-transaction' : 'interceptor'),
    ApiHeader({ name: 'Idempotency-Key', required: true, description: '1-255 characters, unique per operation' }),
    UseInterceptors(IdempotencyInterceptor),
  );

/** The validated Idempotency-Key of the current request. */
export const IdempotencyKey = createParamDecorator((_: unknown, ctx: ExecutionContext): string => {
  return ctx.switchToHttp().getRequest<{ idempotencyKey: string }>().idempotencyKey;
});

/** The current request's key and hash, for an `@Idempotent({ inTransaction: true })` route. */
export const IdempotentRequestOf = createParamDecorator((_: unknown, ctx: ExecutionContext): IdempotentRequest => {
  return ctx.switchToHttp().getRequest<{ idempotentRequest: IdempotentRequest }>().idempotentRequest;
});

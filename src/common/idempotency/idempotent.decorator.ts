import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata, UseInterceptors } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import { CLAIMED_FIRST, IdempotencyInterceptor, IdempotentHttpRequest } from './idempotency.interceptor';
import type { IdempotentRequest } from './idempotency.service';

/**
 * The route requires an `Idempotency-Key` header and replays its first response for the same key. Its
 * service claims and completes the key inside its own transaction (IdempotencyService `run`, or
 * `claim`/`complete` in a batch, the request from `@IdempotentRequestOf()`) and returns an
 * IdempotentReplay for a repeated request. `claimedFirst`: the service claims the key before any check
 * of its own (a batch deciding everything after its claims), so the interceptor does not look the key
 * up first: that read would only repeat the claim's.
 */
export const Idempotent = (opts: { claimedFirst?: boolean } = {}): MethodDecorator =>
  applyDecorators(
    ApiHeader({ name: 'Idempotency-Key', required: true, description: '1-255 characters, unique per operation' }),
    SetMetadata(CLAIMED_FIRST, opts.claimedFirst === true),
    UseInterceptors(IdempotencyInterceptor),
  );

/** The current request's key, hash and success status, for an `@Idempotent()` route. */
export const IdempotentRequestOf = createParamDecorator((_: unknown, ctx: ExecutionContext): IdempotentRequest => {
  return ctx.switchToHttp().getRequest<IdempotentHttpRequest>().idempotentRequest!;
});

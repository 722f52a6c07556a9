import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata, UseInterceptors } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import { IdempotencyInterceptor } from './idempotency.interceptor';

export const IDEMPOTENT = 'bazaar:idempotent';

/** The route requires an `Idempotency-Key` header and replays its first response for the same key. */
export const Idempotent = (): MethodDecorator =>
  applyDecorators(
    SetMetadata(IDEMPOTENT, true),
    ApiHeader({ name: 'Idempotency-Key', required: true, description: '1-255 characters, unique per operation' }),
    UseInterceptors(IdempotencyInterceptor),
  );

/** The validated Idempotency-Key of the current request. */
export const IdempotencyKey = createParamDecorator((_: unknown, ctx: ExecutionContext): string => {
  return ctx.switchToHttp().getRequest<{ idempotencyKey: string }>().idempotencyKey;
});

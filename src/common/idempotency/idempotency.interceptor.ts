import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { from, Observable, of } from 'rxjs';
import { map, mergeMap } from 'rxjs/operators';
import type { AuthUser } from '../auth.decorators';
import { AppError } from '../errors';
import { IdempotencyErrors } from './idempotency.errors';
import { IdempotencyService, IdempotentReplay, IdempotentRequest } from './idempotency.service';

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** Metadata of `@Idempotent({ claimedFirst })`. */
export const CLAIMED_FIRST = 'bazaar:idempotency-claimed-first';

export type IdempotentHttpRequest = FastifyRequest & { user?: AuthUser; idempotentRequest?: IdempotentRequest };

/**
 * The request's Idempotency-Key (checked: 1-255 visible ASCII characters), user and body hash, also
 * left on the request for `@IdempotentRequestOf()`.
 */
function idempotentRequestOf(ctx: ExecutionContext): { request: IdempotentRequest; res: FastifyReply } {
  const req = ctx.switchToHttp().getRequest<IdempotentHttpRequest>();
  const res = ctx.switchToHttp().getResponse<FastifyReply>();
  const key = req.headers['idempotency-key'];
  if (typeof key !== 'string' || !KEY_PATTERN.test(key)) throw IdempotencyErrors.keyRequired();
  const userId = req.user?.id;
  if (!userId) throw IdempotencyErrors.unauthenticated();
  // Nest has set the route's status (201, or its @HttpCode) before interceptors run.
  const request = {
    userId,
    key,
    requestHash: IdempotencyService.hash(req.method, req.url.split('?')[0], req.body),
    responseStatus: res.statusCode,
  };
  req.idempotentRequest = request;
  return { request, res };
}

/** Sends a stored first response again. */
function sendReplay(res: FastifyReply, replay: IdempotentReplay): unknown {
  res.code(replay.status).header('Idempotent-Replayed', 'true');
  return replay.body;
}

/**
 * `@Idempotent()`: the route's service claims and completes the key in its own
 * transaction (IdempotencyService `run`, or `claim`/`complete` for a batch) and returns an
 * IdempotentReplay for a repeated request, which this sends. A stored key is answered here first,
 * before the route's own checks run, unless the route's service claims it before any check of its own
 * (`claimedFirst`).
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    private readonly idempotency: IdempotencyService,
    private readonly reflector: Reflector,
  ) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const { request, res } = idempotentRequestOf(ctx);
    const known = this.reflector.get<boolean>(CLAIMED_FIRST, ctx.getHandler())
      ? Promise.resolve(undefined)
      : this.idempotency.check(request);
    return from(known).pipe(
      mergeMap((known) => {
        if (known instanceof AppError) throw known;
        if (known) return of(sendReplay(res, known));
        return next.handle().pipe(map((body: unknown) => (body instanceof IdempotentReplay ? sendReplay(res, body) : body)));
      }),
    );
  }
}

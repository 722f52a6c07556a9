import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { from, Observable, of } from 'rxjs';
import { catchError, finalize, mergeMap } from 'rxjs/operators';
import type { AuthUser } from '../auth.decorators';
import { AppError } from '../errors';
import { IdempotencyService, IdempotentReplay, IdempotentRequest } from './idempotency.service';

/** Route metadata set by `@Idempotent()`: 'interceptor' or 'in-transaction'. */
export const IDEMPOTENT = 'bazaar:idempotent';

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    private readonly idempotency: IdempotencyService,
    private readonly reflector: Reflector,
  ) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = ctx
      .switchToHttp()
      .getRequest<Request & { user?: AuthUser; idempotencyKey?: string; idempotentRequest?: IdempotentRequest }>();
    const res = ctx.switchToHttp().getResponse<Response>();
    const key = req.header('idempotency-key');
    if (key === undefined || !KEY_PATTERN.test(key)) {
      throw new AppError('IDEMPOTENCY_KEY_REQUIRED', 'An Idempotency-Key header of 1-255 visible ASCII characters is required', {}, [
        { field: 'Idempotency-Key', message: 'must be 1-255 visible ASCII characters' },
      ]);
    }
    const userId = req.user?.id;
    if (!userId) throw new AppError('UNAUTHENTICATED', 'Authentication required');
    req.idempotencyKey = key;
    const hash = IdempotencyService.hash(req.method, req.baseUrl + req.path, req.body);
    const replay = (r: IdempotentReplay) => {
      res.status(r.status).setHeader('Idempotent-Replayed', 'true');
      return of(r.body);
    };
    if (this.reflector.get(IDEMPOTENT, ctx.getHandler()) === 'in-transaction') {
      // The service claims the key in its transaction; a stored key is still answered before the handler runs.
      const request: IdempotentRequest = { userId, key, requestHash: hash };
      req.idempotentRequest = request;
      const handling = this.idempotency.track(request);
      return from(this.idempotency.peek(request)).pipe(
        mergeMap((known) => {
          if (known instanceof AppError) throw known;
          if (known) return replay(known);
          return next.handle().pipe(mergeMap((body) => (body instanceof IdempotentReplay ? replay(body) : of(body))));
        }),
        finalize(() => handling.release()),
      );
    }

    return from(this.idempotency.claim(userId, key, hash)).pipe(
      mergeMap((claim) => {
        if (claim.kind === 'replay') return replay(new IdempotentReplay(claim.status, claim.body));
        return next.handle().pipe(
          mergeMap((body) => from(this.idempotency.complete(userId, key, res.statusCode, body).then(() => body))),
          catchError((err) => from(this.idempotency.release(userId, key).then(() => Promise.reject(err)))),
        );
      }),
    );
  }
}

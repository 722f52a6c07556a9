import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { from, Observable, of } from 'rxjs';
import { catchError, mergeMap } from 'rxjs/operators';
import { IdempotencyErrors } from '../idempotency.errors';
import { idempotentRequestOf, sendReplay } from '../idempotency.interceptor';
import { IdempotentReplay, IdempotentRequest } from '../idempotency.service';
import { LegacyIdempotencyRepository } from './legacy-idempotency.repository';

/** A crashed request's claim is taken over after this long, so a key is never stuck forever. */
const LOCK_SECONDS = 60;

/**
 * The legacy `@Idempotent()` (without `inTransaction`), kept for the routes not moved to in-transaction
 * keys yet (POST /listings/:id/submit, POST /token-purchases, POST /admin/token-purchases/:id/refund):
 * the key is claimed in a statement of its own before the handler runs, completed after it, and
 * released when it fails. Deleted with this folder once those routes have moved.
 */
@Injectable()
export class LegacyIdempotencyInterceptor implements NestInterceptor {
  constructor(
    private readonly dataSource: DataSource,
    private readonly claims: LegacyIdempotencyRepository,
  ) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const { request, res } = idempotentRequestOf(ctx);
    return from(this.claim(request)).pipe(
      mergeMap((replay) => {
        if (replay) return of(sendReplay(res, replay));
        return next.handle().pipe(
          mergeMap((body) => from(this.claims.complete(this.dataSource, request, res.statusCode, body).then(() => body))),
          catchError((err) => from(this.claims.release(this.dataSource, request).then(() => Promise.reject(err)))),
        );
      }),
    );
  }

  /** Claims the key: undefined when claimed, the replay of a completed request, or a refusal (thrown). */
  private async claim(request: IdempotentRequest): Promise<IdempotentReplay | undefined> {
    const claim = await this.claims.claim(this.dataSource, request, request.requestHash, LOCK_SECONDS);
    if (!claim.free) throw IdempotencyErrors.inProgress();
    if (claim.inserted) return undefined;
    const stored = await this.claims.find(this.dataSource, request);
    if (!stored) return this.claim(request); // released between our two statements
    if (stored.requestHash !== request.requestHash) throw IdempotencyErrors.keyReused();
    if (stored.status === 'completed') return new IdempotentReplay(stored.responseStatus, stored.responseBody);
    if (await this.claims.takeOver(this.dataSource, request, LOCK_SECONDS)) return undefined;
    throw IdempotencyErrors.inProgress();
  }
}

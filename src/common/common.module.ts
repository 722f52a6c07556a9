import { Global, Module } from '@nestjs/common';
import { BusinessClockRepository } from './business-clock.repository';
import { Clock } from './clock.service';
import { IdempotencyInterceptor } from './idempotency/idempotency.interceptor';
import { IdempotencyRepository } from './idempotency/idempotency.repository';
import { IdempotencyService } from './idempotency/idempotency.service';
import { LegacyIdempotencyInterceptor } from './idempotency/legacy/legacy-idempotency.interceptor';
import { LegacyIdempotencyRepository } from './idempotency/legacy/legacy-idempotency.repository';

// The interceptors are instantiated in each controller's module, so what they inject is exported too.
const idempotency = [IdempotencyService, IdempotencyRepository, IdempotencyInterceptor];
const legacyIdempotency = [LegacyIdempotencyInterceptor, LegacyIdempotencyRepository];

@Global()
@Module({
  providers: [BusinessClockRepository, Clock, ...idempotency, ...legacyIdempotency],
  exports: [Clock, ...idempotency, ...legacyIdempotency],
})
export class CommonModule {}

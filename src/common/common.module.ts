import { Global, Module } from '@nestjs/common';
import { BusinessClockRepository } from './business-clock.repository';
import { Clock } from './clock.service';
import { IdempotencyInterceptor } from './idempotency/idempotency.interceptor';
import { IdempotencyRepository } from './idempotency/idempotency.repository';
import { IdempotencyService } from './idempotency/idempotency.service';

// The interceptor is instantiated in each controller's module, so what it injects is exported too.
const idempotency = [IdempotencyService, IdempotencyRepository, IdempotencyInterceptor];

@Global()
@Module({
  providers: [BusinessClockRepository, Clock, ...idempotency],
  exports: [Clock, ...idempotency],
})
export class CommonModule {}

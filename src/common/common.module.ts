import { Global, Module } from '@nestjs/common';
import { BusinessClockRepository } from './business-clock.repository';
import { Clock } from './clock.service';
import { IdempotencyInterceptor } from './idempotency/idempotency.interceptor';
import { IdempotencyService } from './idempotency/idempotency.service';

@Global()
@Module({
  providers: [BusinessClockRepository, Clock, IdempotencyService, IdempotencyInterceptor],
  exports: [Clock, IdempotencyService, IdempotencyInterceptor],
})
export class CommonModule {}

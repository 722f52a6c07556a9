import { Module } from '@nestjs/common';
import { PaymentsModule } from '../payments.module';
import { DevPaymentsController } from './dev-payments.controller';

/**
 * The Stripe sandbox's dev routes (/dev/payments). AppModule imports it only when DEV_ROUTES is on, so
 * otherwise the routes do not exist at all (nor in OpenAPI).
 */
@Module({ imports: [PaymentsModule], controllers: [DevPaymentsController] })
export class PaymentsDevModule {}

import { Module } from '@nestjs/common';
import { DevPaymentsController } from './dev-payments.controller';

/**
 * The Stripe sandbox's dev routes (/dev/payments). AppModule imports it only when DEV_ROUTES is on, so
 * otherwise the routes do not exist at all (nor in OpenAPI).
 */
@Module({ controllers: [DevPaymentsController] })
export class PaymentsDevModule {}

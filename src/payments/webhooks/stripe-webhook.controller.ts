import { Controller, Headers, HttpCode, Post, Req } from '@nestjs/common';
import type { RawBodyRequest } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { Public } from '../../common/auth.decorators';
import { StripeEventsService } from './stripe-events.service';

@ApiTags('payments')
@Controller('webhooks')
export class StripeWebhookController {
  constructor(private readonly events: StripeEventsService) {}

  /** Stripe's webhook endpoint: authenticated by `Stripe-Signature` over the raw body, not by a user. */
  @Post('stripe')
  @Public()
  @HttpCode(200)
  receive(@Req() req: RawBodyRequest<Request>, @Headers('stripe-signature') signature: string | undefined) {
    return this.events.receive(req.rawBody, signature);
  }
}

import { Controller, Headers, HttpCode, Post, RawBody } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../../common/api-problems';
import { Public } from '../../common/auth.decorators';
import { StripeEventsService } from './stripe-events.service';
import { StripeEventDto, WebhookAckDto } from './webhook.views';

@ApiTags('payments')
@Controller('webhooks')
export class StripeWebhookController {
  constructor(private readonly events: StripeEventsService) {}

  /** Stripe's webhook endpoint: authenticated by `Stripe-Signature` over the raw body, not by a user. */
  @Post('stripe')
  @Public()
  @HttpCode(200)
  @ApiOperation({
    summary: "Stripe's webhook: the event is stored once, acknowledged, then processed by a job",
    description:
      'Sent by Stripe (or by the sandbox, `/dev/payments`), not by clients. The signature is checked over the exact raw bytes of the body, so a proxy must not re-encode it.',
  })
  @ApiHeader({
    name: 'Stripe-Signature',
    required: true,
    description: "Stripe's signature of the raw body (`t=…,v1=…`) with the webhook secret",
  })
  @ApiBody({ type: StripeEventDto, description: 'the raw Stripe event JSON, exactly as Stripe signed it' })
  @ApiOkResponse({ type: WebhookAckDto })
  @ApiProblems(['WEBHOOK_SIGNATURE_INVALID', 'no signature or body, a signature that does not match, or an unreadable event'])
  receive(@RawBody() rawBody: Buffer | undefined, @Headers('stripe-signature') signature: string | undefined) {
    return this.events.receive(rawBody, signature);
  }
}

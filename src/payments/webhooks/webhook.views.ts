import { ApiProperty } from '@nestjs/swagger';

/** The Stripe event as Stripe sends it; only its signature over the exact raw bytes makes it trusted. */
export class StripeEventDto {
  @ApiProperty({ example: 'evt_1N5xYz2eZvKYlo2C0abc1234' }) id: string;
  @ApiProperty({ example: 'event' }) object: string;
  @ApiProperty({
    description:
      'handled: payment_intent.succeeded, payment_intent.payment_failed, charge.refunded, charge.dispute.created, charge.dispute.closed…',
    example: 'payment_intent.succeeded',
  })
  type: string;
  @ApiProperty({ type: 'integer', description: 'Unix seconds', example: 1763900000 }) created: number;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: '`data.object`: the PaymentIntent, charge or dispute',
    example: { object: { id: 'pi_3N5xYz2eZvKYlo2C0abc1234', object: 'payment_intent' } },
  })
  data: Record<string, unknown>;
}

export class WebhookAckDto {
  @ApiProperty({ enum: [true], example: true }) received: true;
  @ApiProperty({ description: 'the event was received before (stored once, processed once)', example: false }) duplicate: boolean;
}

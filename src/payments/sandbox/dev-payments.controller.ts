import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { ApiProblems, Problem } from '../../common/api-problems';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import type Stripe from 'stripe';
import { Public } from '../../common/auth.decorators';
import { PaymentsErrors } from '../payments.errors';
import { StripeConnection } from '../stripe/stripe.connection';
import { DeliveryResult, FakeStripeError } from './fake-stripe';
import type { FakeStripeScenarios } from './fake-stripe.scenarios';

export class SandboxPaymentDto {
  @ApiPropertyOptional({ maxLength: 100, description: "the card's fingerprint (fraud lists, card features)", example: 'fp_test_1' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  cardFingerprint?: string;

  @ApiPropertyOptional({ description: 'ISO 3166 alpha-2 country of the card', example: 'NL' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Z]{2}$/, { message: 'cardCountry must be an ISO 3166 alpha-2 code' })
  cardCountry?: string;

  @ApiPropertyOptional({ type: 'integer', minimum: 0, maximum: 100, description: "Stripe Radar's risk score of the charge", example: 12 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(100)
  riskScore?: number;
}

export class SandboxDisputeDto {
  @ApiPropertyOptional({
    enum: ['won', 'lost'],
    description: 'without it a dispute is opened; with it the open dispute is closed with that outcome',
    example: 'lost',
  })
  @IsOptional()
  @IsIn(['won', 'lost'])
  close?: 'won' | 'lost';
}

export class SandboxDeliveryDto {
  @ApiProperty({ example: 'evt_ba39f85605a18975ec5a02c2' }) eventId: string;
  @ApiProperty({ example: 'payment_intent.succeeded' }) type: string;
  @ApiProperty({ type: 'integer', nullable: true, description: "the webhook's HTTP status (null: not delivered)", example: 200 })
  webhookStatus: number | null;
}

export class SandboxDeliveriesDto {
  @ApiProperty({ type: [SandboxDeliveryDto], description: 'the events sent to POST /webhooks/stripe, in order' })
  events: SandboxDeliveryDto[];
}

const SANDBOX_PROBLEMS: Problem[] = [
  ['NOT_FOUND', 'no such PaymentIntent in the sandbox'],
  ['INVALID_STATE', 'the sandbox is off (STRIPE_SECRET_KEY set), or the PaymentIntent cannot do that now'],
];

/**
 * Plays the customer's bank against the Stripe sandbox: the sandbox changes the PaymentIntent and
 * sends the resulting events, signed, to this server's real webhook route over HTTP. Registered by
 * PaymentsDevModule, which exists only with DEV_ROUTES=true.
 */
@ApiTags('dev')
@ApiParam({
  name: 'paymentIntentId',
  description: "the purchase's paymentIntentId (pi_…), not a UUID",
  example: 'pi_aa28aab3436451914b4bb10a',
})
@Controller('dev/payments')
export class DevPaymentsController {
  constructor(private readonly connection: StripeConnection) {}

  @Post(':paymentIntentId/succeed')
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: 'Sandbox: the payment succeeds (signed events sent to the webhook)' })
  @ApiOkResponse({ type: SandboxDeliveriesDto })
  @ApiProblems('VALIDATION_FAILED', ...SANDBOX_PROBLEMS)
  succeed(@Param('paymentIntentId') id: string, @Body() body: SandboxPaymentDto) {
    return this.trigger(id, (bank) =>
      bank.succeed(id, { fingerprint: body.cardFingerprint, country: body.cardCountry, riskScore: body.riskScore }),
    );
  }

  @Post(':paymentIntentId/fail')
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: 'Sandbox: the payment fails (card declined)' })
  @ApiOkResponse({ type: SandboxDeliveriesDto })
  @ApiProblems(...SANDBOX_PROBLEMS)
  fail(@Param('paymentIntentId') id: string) {
    return this.trigger(id, (bank) => [bank.fail(id)]);
  }

  @Post(':paymentIntentId/dispute')
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: 'Sandbox: the cardholder disputes the charge, or the open dispute closes (won or lost)' })
  @ApiOkResponse({ type: SandboxDeliveriesDto })
  @ApiProblems('VALIDATION_FAILED', ...SANDBOX_PROBLEMS)
  dispute(@Param('paymentIntentId') id: string, @Body() body: SandboxDisputeDto) {
    return this.trigger(id, (bank) => [body.close ? bank.closeDispute(id, body.close) : bank.dispute(id)]);
  }

  private async trigger(
    paymentIntent: string,
    scenario: (bank: FakeStripeScenarios) => Stripe.Event[],
  ): Promise<{ events: DeliveryResult[] }> {
    const sandbox = this.connection.sandbox;
    if (!sandbox) throw PaymentsErrors.sandboxOff();
    let events: Stripe.Event[];
    try {
      events = await sandbox.play(paymentIntent, scenario);
    } catch (err) {
      if (err instanceof FakeStripeError) throw PaymentsErrors.sandboxRefused(err.status, err.message);
      throw err;
    }
    return { events: await sandbox.deliverToEndpoint(events) };
  }
}

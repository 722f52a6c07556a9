import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import type Stripe from 'stripe';
import { Public } from '../../common/auth.decorators';
import { PaymentsErrors } from '../payments.errors';
import { StripeConnection } from '../stripe/stripe.connection';
import { DeliveryResult, FakeStripe, FakeStripeError } from './fake-stripe';

export class SandboxPaymentDto {
  @IsOptional()
  @IsString()
  @MaxLength(100)
  cardFingerprint?: string;

  @IsOptional()
  @IsString()
  @Matches(/^[A-Z]{2}$/, { message: 'cardCountry must be an ISO 3166 alpha-2 code' })
  cardCountry?: string;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(100)
  riskScore?: number;
}

export class SandboxDisputeDto {
  /** Without it a dispute is opened; with it the open dispute is closed with that outcome. */
  @IsOptional()
  @IsIn(['won', 'lost'])
  close?: 'won' | 'lost';
}

/**
 * Plays the customer's bank against the Stripe sandbox: the sandbox changes the PaymentIntent and
 * sends the resulting events, signed, to this server's real webhook route over HTTP. Registered by
 * PaymentsDevModule, which exists only with DEV_ROUTES=true.
 */
@ApiTags('dev')
@Controller('dev/payments')
export class DevPaymentsController {
  constructor(private readonly connection: StripeConnection) {}

  @Post(':paymentIntentId/succeed')
  @Public()
  @HttpCode(200)
  succeed(@Param('paymentIntentId') id: string, @Body() body: SandboxPaymentDto) {
    return this.trigger((s) => s.succeed(id, { fingerprint: body.cardFingerprint, country: body.cardCountry, riskScore: body.riskScore }));
  }

  @Post(':paymentIntentId/fail')
  @Public()
  @HttpCode(200)
  fail(@Param('paymentIntentId') id: string) {
    return this.trigger((s) => [s.fail(id)]);
  }

  @Post(':paymentIntentId/dispute')
  @Public()
  @HttpCode(200)
  dispute(@Param('paymentIntentId') id: string, @Body() body: SandboxDisputeDto) {
    return this.trigger((s) => [body.close ? s.closeDispute(id, body.close) : s.dispute(id)]);
  }

  private async trigger(scenario: (sandbox: FakeStripe) => Stripe.Event[]): Promise<{ events: DeliveryResult[] }> {
    const sandbox = this.connection.sandbox;
    if (!sandbox) throw PaymentsErrors.sandboxOff();
    let events: Stripe.Event[];
    try {
      events = scenario(sandbox);
    } catch (err) {
      if (err instanceof FakeStripeError) throw PaymentsErrors.sandboxRefused(err.status, err.message);
      throw err;
    }
    return { events: await sandbox.deliverToEndpoint(events) };
  }
}

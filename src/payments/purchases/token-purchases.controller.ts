import { Body, Controller, Get, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, Roles } from '../../common/auth.decorators';
import { IdempotentRequest } from '../../common/idempotency/idempotency.service';
import { Idempotent, IdempotentRequestOf } from '../../common/idempotency/idempotent.decorator';
import type { ClientContext } from '../../identity/identity.hooks';
import { Client } from '../../identity/request-context';
import { CreateTokenPurchaseDto } from './token-purchase.dto';
import { TokenPurchasesService } from './token-purchases.service';
import { IdParam } from '../../common/api-docs';
import { ApiProblems, IDEMPOTENCY, SIGNED_IN } from '../../common/api-problems';
import { CreatedPurchaseDto } from '../wholesale/wholesale.dto';
import { PurchaseDto } from './purchase.views';

@ApiTags('payments')
@ApiBearerAuth()
@Controller('token-purchases')
export class TokenPurchasesController {
  constructor(private readonly purchases: TokenPurchasesService) {}

  @Post()
  @Roles('buyer')
  @Idempotent()
  @ApiOperation({
    summary:
      'Buy a token package: a Stripe PaymentIntent to confirm with `clientSecret`; the credits come when the signed webhook reports the payment',
  })
  @ApiCreatedResponse({ type: CreatedPurchaseDto })
  @ApiProblems(
    'VALIDATION_FAILED',
    ...SIGNED_IN,
    'ACCOUNT_ON_HOLD',
    'FRAUD_BLOCKED',
    ['NOT_FOUND', 'no such public package'],
    ['INVALID_STATE', 'the package is not on sale'],
    ...IDEMPOTENCY,
    ['UPSTREAM_UNAVAILABLE', 'Stripe'],
  )
  create(
    @CurrentUser() user: AuthUser,
    @Body() body: CreateTokenPurchaseDto,
    @Client() client: ClientContext,
    @IdempotentRequestOf() request: IdempotentRequest,
  ) {
    return this.purchases.create(user, body.packageId, { ip: client.ip, ipCountry: client.ipCountry ?? null }, request);
  }

  @Get(':id')
  @Roles('buyer')
  @ApiOperation({ summary: 'One of my token purchases and its status (admins: any, with the payment risk facts)' })
  @ApiOkResponse({ type: PurchaseDto })
  @ApiProblems('VALIDATION_FAILED', ...SIGNED_IN, ['NOT_FOUND', 'also when it is not mine'])
  view(@CurrentUser() user: AuthUser, @IdParam() id: string) {
    return this.purchases.view(user, id);
  }
}

import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems, IDEMPOTENCY } from '../common/api-problems';
import { AuthUser, CurrentUser, Roles } from '../common/auth.decorators';
import { IdempotentRequest } from '../common/idempotency/idempotency.service';
import { Idempotent, IdempotentRequestOf } from '../common/idempotency/idempotent.decorator';
import { PageQuery } from '../common/pagination';
import type { ClientContext } from '../identity/identity.hooks';
import { Client } from '../identity/request-context';
import { CreatedPurchaseDto, CreateWholesalePurchaseDto, WholesalePackagePageDto } from '../payments/wholesale/wholesale.dto';
import { WholesalePurchasesService } from '../payments/wholesale/wholesale-purchases.service';
import { ResellerStatusService } from './lifecycle/reseller-status.service';

const PURCHASE_DESCRIPTION = `Buys a wholesale package through Stripe exactly as \`POST /token-purchases\` buys a token
package, and answers the same: the client confirms the PaymentIntent with \`clientSecret\`, and when the signed webhook
reports the payment, the package's credits are minted once into the reseller's \`reseller_stock\` (no bonus PROMO).
The charge is the wholesale price (retail less RESELLER_WHOLESALE_DISCOUNT_PERCENT, rounded up), copied onto the
purchase. The fraud rules decide the request as \`wholesale_purchase\` and the payment as \`payment_succeeded\`.`;

/** Wholesale stock for resellers (the payments module sells it: WholesalePurchasesService). */
@ApiTags('resellers')
@ApiBearerAuth()
@Controller('reseller')
@Roles('reseller')
export class WholesaleController {
  constructor(
    private readonly wholesale: WholesalePurchasesService,
    private readonly status: ResellerStatusService,
  ) {}

  @Get('wholesale-packages')
  @ApiOperation({ summary: 'The wholesale packages on sale, cheapest first, with the wholesale price' })
  @ApiOkResponse({ type: WholesalePackagePageDto })
  @ApiProblems('UNAUTHENTICATED', ['FORBIDDEN', 'not a reseller'])
  packages(@Query() q: PageQuery) {
    return this.wholesale.packages(q);
  }

  @Post('wholesale-purchases')
  @Idempotent()
  @ApiOperation({ summary: 'Buy a wholesale package into reseller stock', description: PURCHASE_DESCRIPTION })
  @ApiCreatedResponse({ type: CreatedPurchaseDto })
  @ApiProblems(
    'VALIDATION_FAILED',
    'UNAUTHENTICATED',
    ['FORBIDDEN', 'not an active reseller: NOT_ACTIVE_RESELLER'],
    'FRAUD_BLOCKED',
    ['NOT_FOUND', 'no such wholesale package (a public token package is not one)'],
    ['INVALID_STATE', 'the package is retired'],
    'ACCOUNT_ON_HOLD',
    ['UPSTREAM_UNAVAILABLE', 'Stripe'],
    ...IDEMPOTENCY,
  )
  async purchase(
    @CurrentUser() user: AuthUser,
    @Body() body: CreateWholesalePurchaseDto,
    @Client() client: ClientContext,
    @IdempotentRequestOf() request: IdempotentRequest,
  ) {
    // Only an active reseller buys stock: a suspended or revoked one keeps what it has, to settle its orders.
    await this.status.assertMayStock(user.id);
    return this.wholesale.purchase(user, body.packageId, { ip: client.ip, ipCountry: client.ipCountry ?? null }, request);
  }
}

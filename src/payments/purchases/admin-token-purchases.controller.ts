import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, Roles } from '../../common/auth.decorators';
import { IdempotentRequest } from '../../common/idempotency/idempotency.service';
import { Idempotent, IdempotentRequestOf } from '../../common/idempotency/idempotent.decorator';
import { AdminPurchaseListService } from './admin-purchase-list.service';
import { AdminTokenPurchasesQuery, RefundTokenPurchaseDto } from './token-purchase.dto';
import { TokenPurchasesService } from './token-purchases.service';
import { IdParam } from '../../common/api-docs';
import { ADMIN, ApiProblems, IDEMPOTENCY } from '../../common/api-problems';
import { AdminPurchasePage, PurchaseDto } from './purchase.views';

@ApiTags('admin')
@ApiBearerAuth()
@Controller('admin/token-purchases')
export class AdminTokenPurchasesController {
  constructor(
    private readonly purchases: TokenPurchasesService,
    private readonly list: AdminPurchaseListService,
  ) {}

  @Get()
  @Roles('admin')
  @ApiOperation({ summary: 'Every token and wholesale purchase, newest first (filters: userId, status, created range)' })
  @ApiOkResponse({ type: AdminPurchasePage })
  @ApiProblems('VALIDATION_FAILED', ...ADMIN)
  listAll(@Query() q: AdminTokenPurchasesQuery) {
    return this.list.list(q);
  }

  /** Refunds through Stripe and claws the credits back (reseller stock for a wholesale purchase, wallet, then earnings, the rest as debt). */
  @Post(':id/refund')
  @Roles('admin')
  @Idempotent()
  @HttpCode(200)
  @ApiOperation({ summary: 'Refund a succeeded purchase through Stripe and claw its credits back (stock, wallet, earnings, then debt)' })
  @ApiOkResponse({ type: PurchaseDto })
  @ApiProblems(
    'VALIDATION_FAILED',
    ...ADMIN,
    'NOT_FOUND',
    ['INVALID_STATE', 'not succeeded (pending, refunded, disputed…)'],
    ...IDEMPOTENCY,
    ['UPSTREAM_UNAVAILABLE', 'Stripe did not refund'],
  )
  refund(
    @CurrentUser() admin: AuthUser,
    @IdParam() id: string,
    @Body() body: RefundTokenPurchaseDto,
    @IdempotentRequestOf() request: IdempotentRequest,
  ) {
    return this.purchases.refund(admin, id, body.reason, request);
  }
}

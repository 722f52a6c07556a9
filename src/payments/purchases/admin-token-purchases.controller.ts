import { Body, Controller, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, Roles } from '../../common/auth.decorators';
import { IdempotentRequest } from '../../common/idempotency/idempotency.service';
import { Idempotent, IdempotentRequestOf } from '../../common/idempotency/idempotent.decorator';
import { RefundTokenPurchaseDto } from './token-purchase.dto';
import { TokenPurchasesService } from './token-purchases.service';

@ApiTags('admin')
@ApiBearerAuth()
@Controller('admin/token-purchases')
export class AdminTokenPurchasesController {
  constructor(private readonly purchases: TokenPurchasesService) {}

  /** Refunds through Stripe and claws the credits back (reseller stock for a wholesale purchase, wallet, then earnings, the rest as debt). */
  @Post(':id/refund')
  @Roles('admin')
  @Idempotent()
  @HttpCode(200)
  refund(
    @CurrentUser() admin: AuthUser,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: RefundTokenPurchaseDto,
    @IdempotentRequestOf() request: IdempotentRequest,
  ) {
    return this.purchases.refund(admin, id, body.reason, request);
  }
}

import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { idPipe } from '../common/id.pipe';
import { AuthUser, CurrentUser, Roles } from '../common/auth.decorators';
import { IdempotentRequest } from '../common/idempotency/idempotency.service';
import { Idempotent, IdempotentRequestOf } from '../common/idempotency/idempotent.decorator';
import { RefundOrderDto } from './dto/orders.dto';
import { OrderRefundsService } from './order-refunds.service';

@ApiTags('admin')
@ApiBearerAuth()
@Controller('admin/orders')
@Roles('admin')
export class AdminOrdersController {
  constructor(private readonly refunds: OrderRefundsService) {}

  @Post(':id/refund')
  @HttpCode(200)
  @Idempotent()
  refund(
    @CurrentUser() admin: AuthUser,
    @Param('id', idPipe()) id: string,
    @Body() dto: RefundOrderDto,
    @IdempotentRequestOf() request: IdempotentRequest,
  ) {
    return this.refunds.refund(admin.id, id, dto.reason, dto.chargeCreator, request);
  }
}

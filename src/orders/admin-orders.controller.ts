import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { IdParam } from '../common/api-docs';
import { ADMIN, ApiProblems, IDEMPOTENCY } from '../common/api-problems';
import { AuthUser, CurrentUser, Roles } from '../common/auth.decorators';
import { IdempotentRequest } from '../common/idempotency/idempotency.service';
import { Idempotent, IdempotentRequestOf } from '../common/idempotency/idempotent.decorator';
import { AdminOrdersQuery, RefundOrderDto } from './dto/orders.dto';
import { AdminOrderPage, OrderDto } from './dto/order.views';
import { OrderQueriesService } from './order-queries.service';
import { OrderRefundsService } from './order-refunds.service';

@ApiTags('admin')
@ApiBearerAuth()
@Controller('admin/orders')
@Roles('admin')
export class AdminOrdersController {
  constructor(
    private readonly refunds: OrderRefundsService,
    private readonly queries: OrderQueriesService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Every order, newest first (filters: userId (the buyer), status, created range)' })
  @ApiOkResponse({ type: AdminOrderPage })
  @ApiProblems('VALIDATION_FAILED', ...ADMIN)
  list(@Query() q: AdminOrdersQuery) {
    return this.queries.adminList(q);
  }

  @Post(':id/refund')
  @HttpCode(200)
  @Idempotent()
  @ApiOperation({
    summary: "Refund an order: the buyer's payment back, the item revoked, the creators' shares taken back if chargeCreator",
  })
  @ApiOkResponse({ type: OrderDto })
  @ApiProblems('VALIDATION_FAILED', ...ADMIN, 'NOT_FOUND', ['INVALID_STATE', 'not completed'], ...IDEMPOTENCY)
  refund(
    @CurrentUser() admin: AuthUser,
    @IdParam() id: string,
    @Body() dto: RefundOrderDto,
    @IdempotentRequestOf() request: IdempotentRequest,
  ) {
    return this.refunds.refund(admin.id, id, dto.reason, dto.chargeCreator, request);
  }
}

import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, Roles } from '../common/auth.decorators';
import { IdempotentRequest } from '../common/idempotency/idempotency.service';
import { Idempotent, IdempotentRequestOf } from '../common/idempotency/idempotent.decorator';
import { PageQuery } from '../common/pagination';
import { ClientContext } from '../identity/identity.hooks';
import { Client } from '../identity/request-context';
import { CreateOrderDto } from './dto/orders.dto';
import { EarningsService } from './earnings.service';
import { OrderQueriesService } from './order-queries.service';
import { OrdersService } from './orders.service';
import { originOf } from './request-origin';

@ApiTags('orders')
@ApiBearerAuth()
@Controller()
@Roles('buyer')
export class OrdersController {
  constructor(
    private readonly orders: OrdersService,
    private readonly queries: OrderQueriesService,
    private readonly earnings: EarningsService,
  ) {}

  @Post('orders')
  @Idempotent()
  purchase(
    @CurrentUser() user: AuthUser,
    @Body() dto: CreateOrderDto,
    @IdempotentRequestOf() request: IdempotentRequest,
    @Client() client: ClientContext,
  ) {
    return this.orders.purchase(user.id, dto, request, originOf(user, client));
  }

  @Get('me/orders')
  myOrders(@CurrentUser() user: AuthUser, @Query() page: PageQuery) {
    return this.queries.orders(user.id, page);
  }

  @Get('me/inventory')
  inventory(@CurrentUser() user: AuthUser, @Query() page: PageQuery) {
    return this.queries.inventory(user.id, page);
  }

  @Get('me/sales')
  sales(@CurrentUser() user: AuthUser, @Query() page: PageQuery) {
    return this.earnings.sales(user.id, page);
  }
}

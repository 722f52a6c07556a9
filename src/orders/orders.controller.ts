import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
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
import { ApiProblems, IDEMPOTENCY, SIGNED_IN } from '../common/api-problems';
import { InventoryPage, OrderDto, OrderPage, SalePage } from './dto/order.views';

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
  @Idempotent({ claimedFirst: true })
  @ApiOperation({ summary: 'Buy a listing (or gift it): paid from the wallet (then earnings) in CREDIT, or in PROMO' })
  @ApiCreatedResponse({ type: OrderDto })
  @ApiProblems(
    ['VALIDATION_FAILED', 'also a gift to oneself, or a PROMO gift'],
    ...SIGNED_IN,
    ['FORBIDDEN', 'own listing'],
    ['NOT_FOUND', 'no such listing or gift recipient'],
    'ACCOUNT_ON_HOLD',
    'ACCOUNT_FROZEN',
    'COOLING_PERIOD_ACTIVE',
    'ACCOUNT_IN_DEBT',
    ['INVALID_STATE', 'the listing is not for sale'],
    'ALREADY_OWNED',
    'LIMIT_EXCEEDED',
    'FRAUD_BLOCKED',
    'INSUFFICIENT_FUNDS',
    ...IDEMPOTENCY,
  )
  purchase(
    @CurrentUser() user: AuthUser,
    @Body() dto: CreateOrderDto,
    @IdempotentRequestOf() request: IdempotentRequest,
    @Client() client: ClientContext,
  ) {
    return this.orders.purchase(user.id, dto, request, originOf(user, client));
  }

  @Get('me/orders')
  @ApiOperation({ summary: 'My purchases, newest first' })
  @ApiOkResponse({ type: OrderPage })
  @ApiProblems('VALIDATION_FAILED', ...SIGNED_IN)
  myOrders(@CurrentUser() user: AuthUser, @Query() page: PageQuery) {
    return this.queries.orders(user.id, page);
  }

  @Get('me/inventory')
  @ApiOperation({ summary: 'The items I own, newest first' })
  @ApiOkResponse({ type: InventoryPage })
  @ApiProblems('VALIDATION_FAILED', ...SIGNED_IN)
  inventory(@CurrentUser() user: AuthUser, @Query() page: PageQuery) {
    return this.queries.inventory(user.id, page);
  }

  @Get('me/sales')
  @ApiOperation({ summary: 'My sales as a creator (and royalties as an ancestor), with their pending or matured state' })
  @ApiOkResponse({ type: SalePage })
  @ApiProblems('VALIDATION_FAILED', ...SIGNED_IN)
  sales(@CurrentUser() user: AuthUser, @Query() page: PageQuery) {
    return this.earnings.sales(user.id, page);
  }
}

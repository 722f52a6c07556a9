import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, Roles, Sensitive } from '../../common/auth.decorators';
import { IdParam } from '../../common/api-docs';
import { IdempotentRequest } from '../../common/idempotency/idempotency.service';
import { Idempotent, IdempotentRequestOf } from '../../common/idempotency/idempotent.decorator';
import { ClientContext } from '../../identity/identity.hooks';
import { Client } from '../../identity/request-context';
import { originOf } from '../../orders/request-origin';
import {
  CancelResellerOrderDto,
  CreateResellerOrderDto,
  DisputeResellerOrderDto,
  MarkPaidDto,
  MyResellerOrdersQuery,
  ResellerOrderPage,
  ResellerOrderDetailView,
  ResellerOrderView,
} from '../dto/reseller-orders.dto';
import { ApiProblems, IDEMPOTENCY } from '../../common/api-problems';
import { OrderDisputesService } from './order-disputes.service';
import { ResellerOrdersService } from './reseller-orders.service';

/** Escrowed orders between a buyer and a reseller (docs/resellers.md "Orders"). */
@ApiTags('resellers')
@ApiBearerAuth()
@Controller('reseller-orders')
@Roles('buyer')
export class ResellerOrdersController {
  constructor(
    private readonly orders: ResellerOrdersService,
    private readonly disputes: OrderDisputesService,
  ) {}

  @Post()
  @Idempotent()
  @ApiOperation({ summary: 'Open an order with a reseller: the credits move from its stock into escrow at once' })
  @ApiCreatedResponse({ type: ResellerOrderView })
  @ApiProblems(
    'VALIDATION_FAILED',
    'UNAUTHENTICATED',
    'ACCOUNT_ON_HOLD',
    'FORBIDDEN',
    'NOT_FOUND',
    'INVALID_STATE',
    'LIMIT_EXCEEDED',
    'FRAUD_BLOCKED',
    'INSUFFICIENT_FUNDS',
    ...IDEMPOTENCY,
  )
  open(
    @CurrentUser() user: AuthUser,
    @Body() dto: CreateResellerOrderDto,
    @IdempotentRequestOf() request: IdempotentRequest,
    @Client() client: ClientContext,
  ) {
    return this.orders.open(user.id, dto, request, originOf(user, client));
  }

  @Get()
  @ApiOperation({ summary: 'My reseller orders, oldest first: those I opened, or (as=reseller) those opened with me' })
  @ApiOkResponse({ type: ResellerOrderPage })
  @ApiProblems('VALIDATION_FAILED', 'UNAUTHENTICATED')
  mine(@CurrentUser() user: AuthUser, @Query() q: MyResellerOrdersQuery) {
    return this.orders.list(q, q.as === 'reseller' ? { resellerId: user.id } : { buyerId: user.id });
  }

  @Get(':id')
  @ApiOperation({ summary: 'An order with its history (its buyer, its reseller, or an admin)' })
  @ApiOkResponse({ type: ResellerOrderDetailView })
  @ApiProblems('UNAUTHENTICATED', 'NOT_FOUND')
  get(@CurrentUser() user: AuthUser, @IdParam() id: string) {
    return this.orders.get(user.id, user.roles.includes('admin'), id);
  }

  @Post(':id/mark-paid')
  @HttpCode(200)
  @ApiOperation({ summary: 'The buyer says it paid the reseller, with a payment reference' })
  @ApiOkResponse({ type: ResellerOrderView })
  @ApiProblems('VALIDATION_FAILED', 'UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'INVALID_STATE')
  markPaid(@CurrentUser() user: AuthUser, @IdParam() id: string, @Body() dto: MarkPaidDto) {
    return this.orders.markPaid(user.id, id, dto);
  }

  @Post(':id/confirm')
  @HttpCode(200)
  @Roles('reseller')
  @Sensitive()
  @Idempotent()
  @ApiOperation({
    summary: "The reseller confirms it was paid: the credits go from escrow to the buyer's wallet (re-authentication required)",
  })
  @ApiOkResponse({ type: ResellerOrderView })
  @ApiProblems(
    'UNAUTHENTICATED',
    'REAUTH_REQUIRED',
    'FORBIDDEN',
    'NOT_FOUND',
    'ACCOUNT_ON_HOLD',
    'ACCOUNT_FROZEN',
    'COOLING_PERIOD_ACTIVE',
    'INVALID_STATE',
    'FRAUD_BLOCKED',
    ...IDEMPOTENCY,
  )
  confirm(
    @CurrentUser() user: AuthUser,
    @IdParam() id: string,
    @IdempotentRequestOf() request: IdempotentRequest,
    @Client() client: ClientContext,
  ) {
    return this.orders.confirm(user.id, id, request, originOf(user, client));
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @Idempotent()
  @ApiOperation({
    summary: 'Cancel an open order (the buyer before paying; the reseller before it is paid, with a reason): the credits go back to stock',
  })
  @ApiOkResponse({ type: ResellerOrderView })
  @ApiProblems('VALIDATION_FAILED', 'UNAUTHENTICATED', 'NOT_FOUND', 'INVALID_STATE', ...IDEMPOTENCY)
  cancel(
    @CurrentUser() user: AuthUser,
    @IdParam() id: string,
    @Body() dto: CancelResellerOrderDto,
    @IdempotentRequestOf() request: IdempotentRequest,
  ) {
    return this.orders.cancel(user.id, id, dto, request);
  }

  @Post(':id/dispute')
  @HttpCode(200)
  @ApiOperation({ summary: 'The buyer disputes a paid order, or a confirmed one within the dispute window' })
  @ApiOkResponse({ type: ResellerOrderView })
  @ApiProblems('VALIDATION_FAILED', 'UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'INVALID_STATE')
  dispute(@CurrentUser() user: AuthUser, @IdParam() id: string, @Body() dto: DisputeResellerOrderDto) {
    return this.disputes.dispute(user.id, id, dto);
  }
}

import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, Roles } from '../../common/auth.decorators';
import { IdParam } from '../../common/api-docs';
import { IdempotentRequest } from '../../common/idempotency/idempotency.service';
import { Idempotent, IdempotentRequestOf } from '../../common/idempotency/idempotent.decorator';
import { ApiProblems, IDEMPOTENCY } from '../../common/api-problems';
import {
  ResellerOrderDetailView,
  ResellerOrderPage,
  ResellerOrdersQuery,
  ResellerOrderView,
  ResolveResellerOrderDto,
} from '../dto/reseller-orders.dto';
import { ScorecardView } from '../dto/scorecard.dto';
import { OrderDisputesService } from './order-disputes.service';
import { ResellerOrdersService } from './reseller-orders.service';
import { ScorecardService } from '../scorecard/scorecard.service';

@ApiTags('admin')
@ApiBearerAuth()
@Controller('admin')
@Roles('admin')
export class AdminResellerOrdersController {
  constructor(
    private readonly orders: ResellerOrdersService,
    private readonly disputes: OrderDisputesService,
    private readonly scorecards: ScorecardService,
  ) {}

  @Get('reseller-orders')
  @ApiOperation({ summary: 'Reseller orders, oldest first (e.g. ?status=disputed: the disputes waiting for a decision)' })
  @ApiOkResponse({ type: ResellerOrderPage })
  @ApiProblems('VALIDATION_FAILED', 'UNAUTHENTICATED', 'FORBIDDEN')
  list(@Query() q: ResellerOrdersQuery) {
    return this.orders.list(q);
  }

  @Get('reseller-orders/:id')
  @ApiOperation({ summary: 'A reseller order with its history' })
  @ApiOkResponse({ type: ResellerOrderDetailView })
  @ApiProblems('UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND')
  get(@CurrentUser() admin: AuthUser, @IdParam() id: string) {
    return this.orders.get(admin.id, true, id);
  }

  @Post('reseller-orders/:id/resolve')
  @HttpCode(200)
  @Idempotent()
  @ApiOperation({ summary: 'Resolve a dispute to the buyer (from escrow, or from the bond once delivered) or to the reseller' })
  @ApiOkResponse({ type: ResellerOrderView })
  @ApiProblems('VALIDATION_FAILED', 'UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'INVALID_STATE', ...IDEMPOTENCY)
  resolve(
    @CurrentUser() admin: AuthUser,
    @IdParam() id: string,
    @Body() dto: ResolveResellerOrderDto,
    @IdempotentRequestOf() request: IdempotentRequest,
  ) {
    return this.disputes.resolve(admin.id, id, dto, request);
  }

  @Get('resellers/:id/scorecard')
  @ApiOperation({ summary: "A reseller's scorecard and trust score" })
  @ApiOkResponse({ type: ScorecardView })
  @ApiProblems('UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND')
  scorecard(@IdParam() id: string) {
    return this.scorecards.get(id);
  }
}

import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, Roles } from '../../common/auth.decorators';
import { IdempotentRequest } from '../../common/idempotency/idempotency.service';
import { Idempotent, IdempotentRequestOf } from '../../common/idempotency/idempotent.decorator';
import { ApiProblems, IDEMPOTENCY } from '../../common/api-problems';
import { BondService } from './bond.service';
import { BondStatusView, BondView } from '../dto/bond.dto';
import { ScorecardView } from '../dto/scorecard.dto';
import { ScorecardService } from '../scorecard/scorecard.service';

/**
 * The reseller's own bond and scorecard. Releasing and reading the bond need only a reseller record,
 * not the role: a revoked reseller (whose role was taken back) still gets its bond back.
 */
@ApiTags('resellers')
@ApiBearerAuth()
@Controller('reseller')
export class BondController {
  constructor(
    private readonly bonds: BondService,
    private readonly scorecards: ScorecardService,
  ) {}

  @Post('bond')
  @HttpCode(200)
  @Roles('reseller')
  @Idempotent()
  @ApiOperation({ summary: 'Lock the bond: tops it up to RESELLER_BOND_CREDITS from the wallet, then earnings' })
  @ApiOkResponse({ type: BondView })
  @ApiProblems('UNAUTHENTICATED', 'FORBIDDEN', 'INVALID_STATE', 'INSUFFICIENT_FUNDS', ...IDEMPOTENCY)
  lock(@CurrentUser() user: AuthUser, @IdempotentRequestOf() request: IdempotentRequest) {
    return this.bonds.lock(user.id, request);
  }

  @Post('bond/release')
  @HttpCode(200)
  @Roles('buyer')
  @Idempotent()
  @ApiOperation({ summary: 'Release the bond to the wallet (no binding order, no cooling period, last order old enough)' })
  @ApiOkResponse({ type: BondView })
  @ApiProblems('UNAUTHENTICATED', 'FORBIDDEN', 'ACCOUNT_ON_HOLD', 'ACCOUNT_FROZEN', 'COOLING_PERIOD_ACTIVE', 'CONFLICT', ...IDEMPOTENCY)
  release(@CurrentUser() user: AuthUser, @IdempotentRequestOf() request: IdempotentRequest) {
    return this.bonds.release(user.id, request);
  }

  @Get('bond')
  @Roles('buyer')
  @ApiOperation({ summary: 'The bond, what is required, and why it cannot be released now' })
  @ApiOkResponse({ type: BondStatusView })
  @ApiProblems('UNAUTHENTICATED', 'FORBIDDEN')
  status(@CurrentUser() user: AuthUser) {
    return this.bonds.status(user.id);
  }

  @Get('scorecard')
  @Roles('reseller')
  @ApiOperation({ summary: 'Own scorecard and trust score' })
  @ApiOkResponse({ type: ScorecardView })
  @ApiProblems('UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND')
  scorecard(@CurrentUser() user: AuthUser) {
    return this.scorecards.get(user.id);
  }
}

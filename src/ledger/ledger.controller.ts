import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, Roles } from '../common/auth.decorators';
import { PageQuery } from '../common/pagination';
import { balancesJson, lineJson } from './ledger.json';
import { LedgerService } from './ledger.service';
import { ApiProblems, SIGNED_IN } from '../common/api-problems';
import { BalancesDto, LedgerLinePage } from './dto/ledger.views';

@ApiTags('ledger')
@ApiBearerAuth()
@Controller('me')
export class LedgerController {
  constructor(private readonly ledger: LedgerService) {}

  /** Posted balance per account; `held` is the part reserved by pending holds; `debt` is what is owed. */
  @Get('balances')
  @Roles('buyer')
  @ApiOperation({ summary: 'My balances by asset and account' })
  @ApiOkResponse({ type: BalancesDto })
  @ApiProblems(...SIGNED_IN)
  async balances(@CurrentUser() user: AuthUser) {
    return balancesJson(await this.ledger.userBalances(user.id));
  }

  /** The caller's postings, newest first, with the account's balance after each. */
  @Get('ledger')
  @Roles('buyer')
  @ApiOperation({ summary: 'My ledger postings, newest first, with the balance after each' })
  @ApiOkResponse({ type: LedgerLinePage })
  @ApiProblems('VALIDATION_FAILED', ...SIGNED_IN)
  async history(@CurrentUser() user: AuthUser, @Query() q: PageQuery) {
    const page = await this.ledger.history(user.id, q);
    return { items: page.items.map(lineJson), nextCursor: page.nextCursor };
  }
}

import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../common/auth.decorators';
import { BacktestService } from './backtest.service';
import { BacktestDto } from './dto/backtest.dto';
import { ADMIN, ApiProblems } from '../common/api-problems';
import { BacktestReportDto } from './dto/views';

const DESCRIPTION = `Replays a draft rule over the stored decisions of its event types created in the last \`days\`
days (business clock), with the engine's own evaluator on the feature values recorded with each decision and
list membership against the lists as they are now. Reads only (one snapshot); nothing is stored.

- \`eventsScanned\`, \`users\` (distinct users with scanned events), \`matches\`, \`matchedUsers\`.
- A user is **bad** when labelled (chargeback, dispute_lost, confirmed_takeover, confirmed_fraud) after their
  first event in the scan; a matched user is bad when labelled after their first *matched* event.
  \`badMatchedUsers\` (and \`badMatchedByLabel\`, by label kind); \`precision\` = badMatchedUsers ÷ matchedUsers;
  \`recall\` = badMatchedUsers ÷ \`badUsers\` (null when there is nothing to divide by).
- \`matchedOutcomes\`: how the matched events were actually decided; \`actual\`: the outcomes of all scanned
  events and the same figures for the REVIEW and BLOCK decisions (\`flagged\`), for comparison.
- \`errors\`: events on which the condition threw (not matches, as in the engine).
- \`sample\`: up to 20 of the newest matched events, with the stored values of the features the condition reads.

A malformed condition is a 400 that names the problem. Backtests of one server run one at a time.`;

@ApiTags('admin')
@ApiBearerAuth()
@Controller('admin/fraud/backtest')
@Roles('admin')
export class AdminFraudBacktestController {
  constructor(private readonly backtests: BacktestService) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({ summary: 'Backtest a draft fraud rule on the stored events', description: DESCRIPTION })
  @ApiOkResponse({ type: BacktestReportDto })
  @ApiProblems(['VALIDATION_FAILED', 'a malformed rule or condition, named'], ...ADMIN)
  backtest(@Body() dto: BacktestDto) {
    return this.backtests.backtest(dto.rule, dto.days);
  }
}

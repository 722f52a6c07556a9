import { Controller, Get, Header, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ADMIN, ApiProblems, Problem } from '../common/api-problems';
import { Roles } from '../common/auth.decorators';
import { EconomyReportQuery, EconomyReportView } from './dto/economy-report.dto';
import { reportCsv } from './economy-report.csv';
import { EconomyReportService, ReportQuery } from './economy-report.service';

const PROBLEMS: Problem[] = [
  'VALIDATION_FAILED',
  ['REPORT_RANGE_INVALID', 'from is not before to, or the range is longer than ECONOMY_REPORT_MAX_DAYS'],
  ...ADMIN,
  ['SUPPLY_MISMATCH', "the supply read from the ledger's postings disagrees with its own sums (logged as an error)"],
];

const toQuery = (q: EconomyReportQuery): ReportQuery => ({
  from: new Date(q.from),
  to: new Date(q.to),
  interval: q.interval ?? 'day',
  at: q.at === undefined ? undefined : new Date(q.at),
});

@ApiTags('admin')
@ApiBearerAuth()
@Controller('admin/economy')
@Roles('admin')
export class AdminEconomyController {
  constructor(private readonly economy: EconomyReportService) {}

  @Get('report')
  @ApiOperation({
    summary:
      'Economy health: money, the harm beside it, supply proven against the ledger, and buyer-creator patterns, per interval and in total',
  })
  @ApiOkResponse({ type: EconomyReportView })
  @ApiProblems(...PROBLEMS)
  report(@Query() q: EconomyReportQuery): Promise<EconomyReportView> {
    return this.economy.report(toQuery(q));
  }

  @Get('report.csv')
  @Header('Content-Type', 'text/csv; charset=utf-8')
  @ApiOperation({ summary: "The economy report's intervals and total as CSV, one line each (dotted column names)" })
  @ApiOkResponse({
    description: 'a header line, one line per interval, then the total',
    content: {
      'text/csv': {
        schema: { type: 'string' },
        example: 'row,from,to,money.gmv.CREDIT.orders,money.gmv.CREDIT.amount,...\ninterval,2026-11-01T00:00:00.000Z,...',
      },
    },
  })
  @ApiProblems(...PROBLEMS)
  async csv(@Query() q: EconomyReportQuery): Promise<string> {
    return reportCsv(await this.economy.report(toQuery(q)));
  }
}

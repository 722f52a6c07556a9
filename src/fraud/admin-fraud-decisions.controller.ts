import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../common/auth.decorators';
import { DecisionsService } from './decisions.service';
import { DecisionsQuery } from './dto/decisions.dto';
import { ADMIN, ApiProblems } from '../common/api-problems';
import { IdParam } from '../common/api-docs';
import { DecisionExplainedDto, DecisionPage } from './dto/views';

@ApiTags('admin')
@ApiBearerAuth()
@Controller('admin/fraud/decisions')
@Roles('admin')
export class AdminFraudDecisionsController {
  constructor(private readonly decisions: DecisionsService) {}

  @Get()
  @ApiOperation({ summary: 'Fraud decisions, newest first, with their matched rules (filters: userId, eventType, outcome, ruleId)' })
  @ApiOkResponse({ type: DecisionPage })
  @ApiProblems('VALIDATION_FAILED', ...ADMIN)
  list(@Query() q: DecisionsQuery) {
    return this.decisions.list(q);
  }

  /** The decision with its feature values and, for every rule version it evaluated, the condition and what it read. */
  @Get(':id')
  @ApiOperation({ summary: 'One decision explained: its feature values and what every evaluated rule read' })
  @ApiOkResponse({ type: DecisionExplainedDto })
  @ApiProblems('VALIDATION_FAILED', ...ADMIN, 'NOT_FOUND')
  get(@IdParam() id: string) {
    return this.decisions.explain(id);
  }
}

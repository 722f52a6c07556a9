import { Body, Controller, Get, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, Roles } from '../common/auth.decorators';
import { CreateRuleDto, RulesQuery, UpdateRuleDto } from './dto/rules.dto';
import { RuleAdminService, ruleView } from './rule-admin.service';
import { ADMIN, ApiProblems } from '../common/api-problems';
import { IdParam } from '../common/api-docs';
import { RuleDetailDto, RuleDto, RulePage } from './dto/views';

/** Rules: an edit (any subset of the fields, mode DISABLED included) is the rule's next version. */
@ApiTags('admin')
@ApiBearerAuth()
@Controller('admin/fraud/rules')
@Roles('admin')
export class AdminFraudRulesController {
  constructor(private readonly rules: RuleAdminService) {}

  /** The current version of each rule, by name. */
  @Get()
  @ApiOperation({ summary: 'The fraud rules: the current version of each, by name' })
  @ApiOkResponse({ type: RulePage })
  @ApiProblems('VALIDATION_FAILED', ...ADMIN)
  async list(@Query() q: RulesQuery) {
    const page = await this.rules.list(q);
    return { items: page.items.map(ruleView), nextCursor: page.nextCursor };
  }

  /** The current version, with every version newest first. */
  @Get(':id')
  @ApiOperation({ summary: 'A rule: its current version with every version, newest first' })
  @ApiOkResponse({ type: RuleDetailDto })
  @ApiProblems('VALIDATION_FAILED', ...ADMIN, 'NOT_FOUND')
  async get(@IdParam() id: string) {
    const { current, versions } = await this.rules.get(id);
    return { ...ruleView(current), versions: versions.map(ruleView) };
  }

  @Post()
  @ApiOperation({ summary: 'Create a fraud rule (version 1)' })
  @ApiCreatedResponse({ type: RuleDto })
  @ApiProblems(['VALIDATION_FAILED', 'also a condition the feature catalog does not support'], ...ADMIN, ['CONFLICT', 'the name is taken'])
  async create(@CurrentUser() admin: AuthUser, @Body() dto: CreateRuleDto) {
    return ruleView(await this.rules.create(admin.id, dto));
  }

  @Patch(':id')
  @ApiOperation({ summary: "Edit a rule (any subset of its fields): the rule's next version" })
  @ApiOkResponse({ type: RuleDto })
  @ApiProblems(['VALIDATION_FAILED', 'also nothing to change'], ...ADMIN, 'NOT_FOUND', ['CONFLICT', 'the name is taken'])
  async edit(@CurrentUser() admin: AuthUser, @IdParam() id: string, @Body() dto: UpdateRuleDto) {
    return ruleView(await this.rules.edit(admin.id, id, dto));
  }
}

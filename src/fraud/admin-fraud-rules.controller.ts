import { Body, Controller, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, Roles } from '../common/auth.decorators';
import { idPipe } from '../common/id.pipe';
import { CreateRuleDto, RulesQuery, UpdateRuleDto } from './dto/rules.dto';
import { RuleAdminService, ruleView } from './rule-admin.service';

/** Rules: an edit (any subset of the fields, mode DISABLED included) is the rule's next version. */
@ApiTags('admin')
@ApiBearerAuth()
@Controller('admin/fraud/rules')
@Roles('admin')
export class AdminFraudRulesController {
  constructor(private readonly rules: RuleAdminService) {}

  /** The current version of each rule, by name. */
  @Get()
  async list(@Query() q: RulesQuery) {
    const page = await this.rules.list(q);
    return { items: page.items.map(ruleView), nextCursor: page.nextCursor };
  }

  /** The current version, with every version newest first. */
  @Get(':id')
  async get(@Param('id', idPipe()) id: string) {
    const { current, versions } = await this.rules.get(id);
    return { ...ruleView(current), versions: versions.map(ruleView) };
  }

  @Post()
  async create(@CurrentUser() admin: AuthUser, @Body() dto: CreateRuleDto) {
    return ruleView(await this.rules.create(admin.id, dto));
  }

  @Patch(':id')
  async edit(@CurrentUser() admin: AuthUser, @Param('id', idPipe()) id: string, @Body() dto: UpdateRuleDto) {
    return ruleView(await this.rules.edit(admin.id, id, dto));
  }
}

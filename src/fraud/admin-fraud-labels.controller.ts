import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, Roles } from '../common/auth.decorators';
import { CreateLabelDto, LabelsQuery } from './dto/labels.dto';
import { LabelsService } from './labels.service';
import { ADMIN, ApiProblems } from '../common/api-problems';
import { LabelDto, LabelPage } from './dto/views';

@ApiTags('admin')
@ApiBearerAuth()
@Controller('admin/fraud/labels')
@Roles('admin')
export class AdminFraudLabelsController {
  constructor(private readonly labels: LabelsService) {}

  @Get()
  @ApiOperation({ summary: 'Fraud labels (ground truth for backtests), newest first' })
  @ApiOkResponse({ type: LabelPage })
  @ApiProblems('VALIDATION_FAILED', ...ADMIN)
  list(@Query() q: LabelsQuery) {
    return this.labels.list(q);
  }

  @Post()
  @ApiOperation({ summary: 'Label a user confirmed_takeover or confirmed_fraud' })
  @ApiCreatedResponse({ type: LabelDto })
  @ApiProblems('VALIDATION_FAILED', ...ADMIN, ['NOT_FOUND', 'no such user'])
  create(@CurrentUser() admin: AuthUser, @Body() dto: CreateLabelDto) {
    return this.labels.add(admin.id, dto);
  }
}

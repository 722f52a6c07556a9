import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, Roles } from '../common/auth.decorators';
import { CreateLabelDto, LabelsQuery } from './dto/labels.dto';
import { LabelsService } from './labels.service';

@ApiTags('admin')
@ApiBearerAuth()
@Controller('admin/fraud/labels')
@Roles('admin')
export class AdminFraudLabelsController {
  constructor(private readonly labels: LabelsService) {}

  @Get()
  list(@Query() q: LabelsQuery) {
    return this.labels.list(q);
  }

  @Post()
  create(@CurrentUser() admin: AuthUser, @Body() dto: CreateLabelDto) {
    return this.labels.add(admin.id, dto);
  }
}

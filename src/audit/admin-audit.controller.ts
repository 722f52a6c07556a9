import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { Roles } from '../common/auth.decorators';
import { PageQuery } from '../common/pagination';
import { AuditService } from './audit.service';

class AuditQuery extends PageQuery {
  @IsOptional()
  @IsString()
  @MaxLength(100)
  action?: string;

  @IsOptional()
  @IsString()
  @MaxLength(100)
  subjectId?: string;
}

@ApiTags('admin')
@ApiBearerAuth()
@Controller('admin/audit-log')
export class AdminAuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @Roles('admin')
  list(@Query() q: AuditQuery) {
    return this.audit.list(q);
  }
}

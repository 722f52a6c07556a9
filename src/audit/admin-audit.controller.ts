import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ADMIN, ApiProblems } from '../common/api-problems';
import { Roles } from '../common/auth.decorators';
import { AuditService } from './audit.service';
import { AuditEntryPage, AuditQuery } from './audit.views';

@ApiTags('admin')
@ApiBearerAuth()
@Controller('admin/audit-log')
export class AdminAuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @Roles('admin')
  @ApiOperation({ summary: 'The audit log of admin and security actions, newest first (filters: action, subjectId)' })
  @ApiOkResponse({ type: AuditEntryPage })
  @ApiProblems('VALIDATION_FAILED', ...ADMIN)
  list(@Query() q: AuditQuery) {
    return this.audit.list(q);
  }
}

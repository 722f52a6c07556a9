import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, Roles } from '../../common/auth.decorators';
import { IdParam } from '../../common/api-docs';
import { ADMIN, ApiProblems, Problem } from '../../common/api-problems';
import { ApplicationsQuery, DecisionNoteDto } from '../dto/applications.dto';
import { AdminApplicationView, ApplicationPage } from '../dto/views';
import { VettingService } from './vetting.service';

const NOT_OWN: Problem = ['FORBIDDEN', 'an admin deciding their own application (OWN_APPLICATION), or not an admin'];

@ApiTags('admin')
@ApiBearerAuth()
@Controller('admin/reseller-applications')
@Roles('admin')
export class AdminResellerApplicationsController {
  constructor(private readonly vetting: VettingService) {}

  @Get()
  @ApiOperation({ summary: 'Reseller applications, oldest first, by status' })
  @ApiOkResponse({ type: ApplicationPage })
  @ApiProblems('VALIDATION_FAILED', ...ADMIN)
  list(@Query() q: ApplicationsQuery) {
    return this.vetting.list(q);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One application with its automated check report and its fraud review' })
  @ApiOkResponse({ type: AdminApplicationView })
  @ApiProblems('VALIDATION_FAILED', ...ADMIN, 'NOT_FOUND')
  get(@IdParam() id: string) {
    return this.vetting.get(id);
  }

  @Post(':id/approve')
  @HttpCode(200)
  @ApiOperation({ summary: 'First approval (→ awaiting_second_approval), or the final one by a different admin (→ approved: a reseller)' })
  @ApiOkResponse({ type: AdminApplicationView })
  @ApiProblems(
    'VALIDATION_FAILED',
    'UNAUTHENTICATED',
    NOT_OWN,
    ['FORBIDDEN', 'the admin who gave the first approval (SAME_ADMIN)'],
    'NOT_FOUND',
    ['INVALID_STATE', 'decided already'],
    ['CONFLICT', 'the fraud review is open: FRAUD_REVIEW_OPEN'],
    ['LIMIT_EXCEEDED', 'RESELLER_CAP reached'],
  )
  approve(@CurrentUser() admin: AuthUser, @IdParam() id: string, @Body() dto: DecisionNoteDto) {
    return this.vetting.approve(admin.id, id, dto.note);
  }

  @Post(':id/reject')
  @HttpCode(200)
  @ApiOperation({ summary: 'Reject an application in progress' })
  @ApiOkResponse({ type: AdminApplicationView })
  @ApiProblems('VALIDATION_FAILED', 'UNAUTHENTICATED', NOT_OWN, 'NOT_FOUND', ['INVALID_STATE', 'decided already'])
  reject(@CurrentUser() admin: AuthUser, @IdParam() id: string, @Body() dto: DecisionNoteDto) {
    return this.vetting.reject(admin.id, id, dto.note);
  }
}

import { applyDecorators, Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, Roles } from '../../common/auth.decorators';
import { IdParam } from '../../common/api-docs';
import { ADMIN, ApiProblems } from '../../common/api-problems';
import { DecisionNoteDto, ResellersQuery } from '../dto/applications.dto';
import { ResellerPage, ResellerView } from '../dto/views';
import { ResellerStatusService } from './reseller-status.service';

/** `POST /admin/resellers/:id/<action>` with a note: answers the reseller with its standing; INVALID_STATE `whenInvalid`. */
const StatusChange = (action: string, summary: string, whenInvalid: string): MethodDecorator =>
  applyDecorators(
    Post(`:id/${action}`),
    HttpCode(200),
    ApiOperation({ summary }),
    ApiOkResponse({ type: ResellerView }),
    ApiProblems('VALIDATION_FAILED', ...ADMIN, 'NOT_FOUND', ['INVALID_STATE', whenInvalid]),
  );

@ApiTags('admin')
@ApiBearerAuth()
@Controller('admin/resellers')
@Roles('admin')
export class AdminResellersController {
  constructor(private readonly status: ResellerStatusService) {}

  @Get()
  @ApiOperation({ summary: 'Resellers by status, with their standing' })
  @ApiOkResponse({ type: ResellerPage })
  @ApiProblems('VALIDATION_FAILED', ...ADMIN)
  list(@Query() q: ResellersQuery) {
    return this.status.list(q);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One reseller (its id is its user id) with its standing: taking orders, probation, limits' })
  @ApiOkResponse({ type: ResellerView })
  @ApiProblems('VALIDATION_FAILED', ...ADMIN, 'NOT_FOUND')
  get(@IdParam() id: string) {
    return this.status.get(id);
  }

  @StatusChange('suspend', 'Suspend an active reseller: no new orders, open ones stay resolvable', 'not active')
  suspend(@CurrentUser() admin: AuthUser, @IdParam() id: string, @Body() dto: DecisionNoteDto) {
    return this.status.suspendByAdmin(admin.id, id, dto.note);
  }

  @StatusChange('reinstate', 'Reinstate a suspended reseller', 'not suspended, or the account is still flagged (FLAGGED, with `flags`)')
  reinstate(@CurrentUser() admin: AuthUser, @IdParam() id: string, @Body() dto: DecisionNoteDto) {
    return this.status.reinstate(admin.id, id, dto.note);
  }

  @StatusChange(
    'revoke',
    'Revoke a reseller: the reseller role is taken back; only a new approved application undoes it',
    'revoked already',
  )
  revoke(@CurrentUser() admin: AuthUser, @IdParam() id: string, @Body() dto: DecisionNoteDto) {
    return this.status.revoke(admin.id, id, dto.note);
  }

  @StatusChange(
    'renew',
    'Record the periodic re-vetting: the next is due RESELLER_REVET_DAYS from now (fresh check report in the audit entry)',
    'revoked',
  )
  renew(@CurrentUser() admin: AuthUser, @IdParam() id: string, @Body() dto: DecisionNoteDto) {
    return this.status.renew(admin.id, id, dto.note);
  }
}

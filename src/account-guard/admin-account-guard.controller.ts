import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, Roles } from '../common/auth.decorators';
import { AccountGuardService } from './account-guard.service';
import { AccountHoldDto, ReleaseAccountHoldDto } from './dto/account-guard.dto';
import { ADMIN, ApiProblems } from '../common/api-problems';
import { IdParam } from '../common/api-docs';
import { AdminUserListService } from './admin-user-list.service';
import { AdminAccountStateDto, AdminUserPage, AdminUsersQuery } from './dto/views';

@ApiTags('admin')
@ApiBearerAuth()
@Controller('admin/users')
export class AdminAccountGuardController {
  constructor(
    private readonly guard: AccountGuardService,
    private readonly users: AdminUserListService,
  ) {}

  @Get()
  @Roles('admin')
  @ApiOperation({ summary: 'Users, newest first (filters: email prefix, role, hold, created range), each with the routes to act on them' })
  @ApiOkResponse({ type: AdminUserPage })
  @ApiProblems('VALIDATION_FAILED', ...ADMIN)
  list(@Query() q: AdminUsersQuery) {
    return this.users.list(q);
  }

  @Post(':id/hold')
  @Roles('admin')
  @HttpCode(200)
  @ApiOperation({ summary: "Place the admins' account hold: the account can move no value until released" })
  @ApiOkResponse({ type: AdminAccountStateDto })
  @ApiProblems('VALIDATION_FAILED', ...ADMIN, 'NOT_FOUND', ['INVALID_STATE', "the admins' hold is active already"])
  hold(@CurrentUser() actor: AuthUser, @IdParam() id: string, @Body() dto: AccountHoldDto) {
    return this.guard.placeHold(actor.id, id, dto.reason);
  }

  @Post(':id/release')
  @Roles('admin')
  @HttpCode(200)
  @ApiOperation({ summary: 'Release the account hold named by `reference`, or every active one' })
  @ApiOkResponse({ type: AdminAccountStateDto })
  @ApiProblems('VALIDATION_FAILED', ...ADMIN, 'NOT_FOUND', ['INVALID_STATE', 'no such active hold'])
  release(@CurrentUser() actor: AuthUser, @IdParam() id: string, @Body() dto: ReleaseAccountHoldDto) {
    return this.guard.releaseHold(actor.id, id, dto.reason, dto.reference);
  }
}

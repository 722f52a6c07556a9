import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, Roles } from '../common/auth.decorators';
import { AdminUsersService } from './admin-users.service';
import { ChangeRolesDto } from './dto/admin-users.dto';
import { userView } from './dto/user.view';
import { ADMIN, ApiProblems } from '../common/api-problems';
import { IdParam } from '../common/api-docs';
import { UserDto } from './dto/views';

@ApiTags('admin')
@ApiBearerAuth()
@Controller('admin/users')
export class AdminUsersController {
  constructor(private readonly admin: AdminUsersService) {}

  @Post(':id/roles')
  @Roles('admin')
  @HttpCode(200)
  @ApiOperation({ summary: "Add or remove a user's roles (granting admin is audited; reseller comes only from vetting)" })
  @ApiOkResponse({ type: UserDto })
  @ApiProblems('VALIDATION_FAILED', ...ADMIN, ['ROLE_NOT_GRANTABLE', 'reseller'], 'NOT_FOUND', ['INVALID_STATE', 'removing the last admin'])
  async changeRoles(@CurrentUser() actor: AuthUser, @IdParam() id: string, @Body() dto: ChangeRolesDto) {
    return userView(await this.admin.changeRoles(actor.id, id, dto.add ?? [], dto.remove ?? []));
  }
}

import { Body, Controller, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, Roles } from '../common/auth.decorators';
import { AdminUsersService } from './admin-users.service';
import { ChangeRolesDto } from './dto/admin-users.dto';
import { userView } from './dto/user.view';

@ApiTags('admin')
@ApiBearerAuth()
@Controller('admin/users')
export class AdminUsersController {
  constructor(private readonly admin: AdminUsersService) {}

  @Post(':id/roles')
  @Roles('admin')
  @HttpCode(200)
  async changeRoles(@CurrentUser() actor: AuthUser, @Param('id', new ParseUUIDPipe()) id: string, @Body() dto: ChangeRolesDto) {
    return userView(await this.admin.changeRoles(actor.id, id, dto.add ?? [], dto.remove ?? []));
  }
}

import { Body, Controller, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, Roles } from '../common/auth.decorators';
import { AccountGuardService } from './account-guard.service';
import { AccountHoldDto, ReleaseAccountHoldDto } from './dto/account-guard.dto';

@ApiTags('admin')
@ApiBearerAuth()
@Controller('admin/users')
export class AdminAccountGuardController {
  constructor(private readonly guard: AccountGuardService) {}

  @Post(':id/hold')
  @Roles('admin')
  @HttpCode(200)
  hold(@CurrentUser() actor: AuthUser, @Param('id', new ParseUUIDPipe()) id: string, @Body() dto: AccountHoldDto) {
    return this.guard.placeHold(actor.id, id, dto.reason);
  }

  @Post(':id/release')
  @Roles('admin')
  @HttpCode(200)
  release(@CurrentUser() actor: AuthUser, @Param('id', new ParseUUIDPipe()) id: string, @Body() dto: ReleaseAccountHoldDto) {
    return this.guard.releaseHold(actor.id, id, dto.reason, dto.reference);
  }
}

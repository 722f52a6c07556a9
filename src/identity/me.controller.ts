import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, Roles, Sensitive } from '../common/auth.decorators';
import { AccountService } from './account.service';
import { ChangeEmailDto } from './dto/auth.dto';
import { userView } from './dto/user.view';
import { ClientContext } from './identity.hooks';
import { IdentityService } from './identity.service';
import { Client } from './request-context';

@ApiTags('me')
@ApiBearerAuth()
@Controller('me')
export class MeController {
  constructor(
    private readonly identity: IdentityService,
    private readonly accounts: AccountService,
  ) {}

  @Get()
  @Roles('buyer')
  me(@CurrentUser() user: AuthUser) {
    return this.identity.profile(user.id);
  }

  /** Changing the sign-in address is sensitive: it needs a recent re-authentication. */
  @Post('email')
  @Roles('buyer')
  @Sensitive()
  @HttpCode(200)
  async changeEmail(@CurrentUser() user: AuthUser, @Body() dto: ChangeEmailDto, @Client() client: ClientContext) {
    return userView(await this.accounts.changeEmail(user, dto.email, client));
  }
}

import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems, REAUTH, SIGNED_IN } from '../common/api-problems';
import { AuthUser, CurrentUser, Roles, Sensitive } from '../common/auth.decorators';
import { AccountService } from './account.service';
import { ChangeEmailDto } from './dto/auth.dto';
import { userView } from './dto/user.view';
import { ProfileDto, UserDto } from './dto/views';
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
  @ApiOperation({ summary: 'My profile, roles and account flags' })
  @ApiOkResponse({ type: ProfileDto })
  @ApiProblems(...SIGNED_IN)
  me(@CurrentUser() user: AuthUser) {
    return this.identity.profile(user);
  }

  /** Changing the sign-in address is sensitive: it needs a recent re-authentication. */
  @Post('email')
  @Roles('buyer')
  @Sensitive()
  @HttpCode(200)
  @ApiOperation({ summary: 'Change my email address (re-authentication required); it must be verified again' })
  @ApiOkResponse({ type: UserDto })
  @ApiProblems('VALIDATION_FAILED', ...SIGNED_IN, REAUTH, ['CONFLICT', 'the email is taken'])
  async changeEmail(@CurrentUser() user: AuthUser, @Body() dto: ChangeEmailDto, @Client() client: ClientContext) {
    return userView(await this.accounts.changeEmail(user, dto.email, client));
  }
}

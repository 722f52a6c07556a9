import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, Roles, Sensitive } from '../common/auth.decorators';
import { ClientContext } from '../identity/identity.hooks';
import { Client } from '../identity/request-context';
import { TotpCodeDto } from './dto/account-guard.dto';
import { TotpService } from './totp.service';

@ApiTags('auth')
@ApiBearerAuth()
@Controller('auth/2fa/totp')
export class TotpController {
  constructor(private readonly totp: TotpService) {}

  /** Sensitive: whoever sets the second factor controls future step-ups. */
  @Post('enroll')
  @Roles('buyer')
  @Sensitive()
  @HttpCode(200)
  enroll(@CurrentUser() user: AuthUser) {
    return this.totp.enroll(user);
  }

  @Post('confirm')
  @Roles('buyer')
  @HttpCode(204)
  async confirm(@CurrentUser() user: AuthUser, @Body() dto: TotpCodeDto, @Client() client: ClientContext): Promise<void> {
    await this.totp.confirm(user, dto.code, client);
  }

  @Post('disable')
  @Roles('buyer')
  @Sensitive()
  @HttpCode(204)
  async disable(@CurrentUser() user: AuthUser, @Body() dto: TotpCodeDto, @Client() client: ClientContext): Promise<void> {
    await this.totp.disable(user, dto.code, client);
  }
}

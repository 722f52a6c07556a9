import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, Roles, Sensitive } from '../common/auth.decorators';
import { ClientContext } from '../identity/identity.hooks';
import { Client } from '../identity/request-context';
import { TotpCodeDto } from './dto/account-guard.dto';
import { TotpService } from './totp.service';
import { ApiProblems, REAUTH, SIGNED_IN } from '../common/api-problems';
import { TotpEnrollmentDto } from './dto/views';

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
  @ApiOperation({ summary: 'Start TOTP enrolment (re-authentication required): the secret to confirm with a code' })
  @ApiOkResponse({ type: TotpEnrollmentDto })
  @ApiProblems(...SIGNED_IN, REAUTH, ['CONFLICT', 'TOTP is on already'])
  enroll(@CurrentUser() user: AuthUser) {
    return this.totp.enroll(user);
  }

  @Post('confirm')
  @Roles('buyer')
  @HttpCode(204)
  @ApiOperation({ summary: 'Turn TOTP on with a first code from the authenticator' })
  @ApiNoContentResponse()
  @ApiProblems(['VALIDATION_FAILED', 'malformed or wrong code'], ...SIGNED_IN, ['INVALID_STATE', 'on already, or no enrolment started'])
  async confirm(@CurrentUser() user: AuthUser, @Body() dto: TotpCodeDto, @Client() client: ClientContext): Promise<void> {
    await this.totp.confirm(user, dto.code, client);
  }

  @Post('disable')
  @Roles('buyer')
  @Sensitive()
  @HttpCode(204)
  @ApiOperation({ summary: 'Turn TOTP off with a current code (re-authentication required)' })
  @ApiNoContentResponse()
  @ApiProblems(['VALIDATION_FAILED', 'malformed or wrong code'], ...SIGNED_IN, REAUTH, ['INVALID_STATE', 'TOTP is off'])
  async disable(@CurrentUser() user: AuthUser, @Body() dto: TotpCodeDto, @Client() client: ClientContext): Promise<void> {
    await this.totp.disable(user, dto.code, client);
  }
}

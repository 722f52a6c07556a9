import { Body, Controller, Delete, Get, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiBody,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { IdParam } from '../common/api-docs';
import { ApiProblems, SIGNED_IN } from '../common/api-problems';
import { AuthUser, CurrentUser, Public, Roles } from '../common/auth.decorators';
import { AccountService } from './account.service';
import {
  ChangePasswordDto,
  LoginDto,
  ReauthDto,
  RefreshDto,
  RegisterDto,
  ResetPasswordDto,
  ResetRequestDto,
  VerifyEmailDto,
} from './dto/auth.dto';
import { LoginResultDto, RegisteredUserDto, SessionListDto, TokenPairDto } from './dto/views';
import { LocalLoginGuard } from './guards/local-login.guard';
import { IdentityErrors } from './identity.errors';
import { ClientContext, VerifiedUser } from './identity.hooks';
import { LoginService } from './login.service';
import { Client } from './request-context';
import { SessionsService } from './sessions.service';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly accounts: AccountService,
    private readonly login: LoginService,
    private readonly sessions: SessionsService,
  ) {}

  @Post('register')
  @Public()
  @ApiOperation({ summary: 'Create an account (role buyer); a verification email is sent' })
  @ApiCreatedResponse({ type: RegisteredUserDto })
  @ApiProblems('VALIDATION_FAILED', ['CONFLICT', 'the email is taken'], ['FRAUD_BLOCKED', 'the signup rules refuse it'])
  async register(@Body() dto: RegisterDto, @Client() client: ClientContext) {
    const user = await this.accounts.register(dto, client);
    return { id: user.id, email: user.email, displayName: user.displayName, roles: user.roles };
  }

  @Post('login')
  @Public()
  @HttpCode(200)
  @UseGuards(LocalLoginGuard)
  @ApiBody({ type: LoginDto })
  @ApiOperation({ summary: 'Sign in with email and password; a new device or network may need a step-up' })
  @ApiOkResponse({ type: LoginResultDto })
  @ApiProblems(
    'VALIDATION_FAILED',
    'INVALID_CREDENTIALS',
    ['STEP_UP_REQUIRED', 'with `challengeId` and `methods`: complete it with POST /auth/step-up'],
    ['FRAUD_BLOCKED', 'the login rules refuse it'],
    ['ACCOUNT_LOCKED', 'too many failures (`until`, or until a password reset)'],
    ['RATE_LIMITED', 'too many failures from the network'],
  )
  logIn(@Req() req: FastifyRequest & { user: VerifiedUser }, @Body() dto: LoginDto, @Client() client: ClientContext) {
    return this.login.login(req.user, { purpose: 'login', email: dto.email, deviceToken: dto.deviceToken, ...client });
  }

  @Post('refresh')
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: 'Rotate the refresh token for a new token pair; reusing a rotated one revokes the session' })
  @ApiOkResponse({ type: TokenPairDto })
  @ApiProblems('VALIDATION_FAILED', ['INVALID_TOKEN', 'unknown, expired, reused (the family is revoked) or its session ended'])
  async refresh(@Body() dto: RefreshDto, @Client() client: ClientContext) {
    const pair = await this.sessions.refresh(dto.refreshToken, client);
    return { accessToken: pair.accessToken, refreshToken: pair.refreshToken, expiresIn: pair.expiresIn };
  }

  @Post('logout')
  @Roles('buyer')
  @ApiBearerAuth()
  @HttpCode(204)
  @ApiOperation({ summary: 'End the current session' })
  @ApiNoContentResponse()
  @ApiProblems(...SIGNED_IN)
  async logout(@CurrentUser() user: AuthUser): Promise<void> {
    await this.sessions.revoke(undefined, user.id, user.sessionId, 'logout');
  }

  @Post('reauth')
  @Roles('buyer')
  @ApiBearerAuth()
  @HttpCode(204)
  @ApiOperation({ summary: 'Prove presence again (password or TOTP): opens the window for sensitive actions' })
  @ApiNoContentResponse()
  @ApiProblems('VALIDATION_FAILED', ...SIGNED_IN, ['INVALID_CREDENTIALS', 'wrong password or code'])
  async reauth(@CurrentUser() user: AuthUser, @Body() dto: ReauthDto, @Client() client: ClientContext): Promise<void> {
    await this.login.reauthenticate(user, client, dto);
  }

  @Get('sessions')
  @Roles('buyer')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'My live sessions' })
  @ApiOkResponse({ type: SessionListDto })
  @ApiProblems(...SIGNED_IN)
  listSessions(@CurrentUser() user: AuthUser) {
    return this.sessions.list(user.id, user.sessionId);
  }

  @Delete('sessions/:id')
  @Roles('buyer')
  @ApiBearerAuth()
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke one of my sessions' })
  @ApiNoContentResponse()
  @ApiProblems('VALIDATION_FAILED', ...SIGNED_IN, ['NOT_FOUND', 'no live session of mine'])
  async revokeSession(@CurrentUser() user: AuthUser, @IdParam() id: string): Promise<void> {
    if (!(await this.sessions.revoke(undefined, user.id, id, 'revoked_by_user'))) throw IdentityErrors.sessionNotFound();
  }

  @Post('password/change')
  @Roles('buyer')
  @ApiBearerAuth()
  @HttpCode(204)
  @ApiOperation({ summary: 'Change my password; my other sessions are revoked' })
  @ApiNoContentResponse()
  @ApiProblems('VALIDATION_FAILED', ...SIGNED_IN, ['INVALID_CREDENTIALS', 'wrong current password'])
  async changePassword(@CurrentUser() user: AuthUser, @Body() dto: ChangePasswordDto, @Client() client: ClientContext): Promise<void> {
    await this.accounts.changePassword(user, dto, client);
  }

  @Post('password/reset-request')
  @Public()
  @HttpCode(202)
  @ApiOperation({ summary: 'Email a password reset link (always 202, whether or not the address exists)' })
  @ApiAcceptedResponse({ description: 'no body' })
  @ApiProblems('VALIDATION_FAILED')
  async requestReset(@Body() dto: ResetRequestDto): Promise<void> {
    await this.accounts.requestPasswordReset(dto.email);
  }

  @Post('password/reset')
  @Public()
  @HttpCode(204)
  @ApiOperation({ summary: "Set a new password with the emailed token; the account's sessions are revoked" })
  @ApiNoContentResponse()
  @ApiProblems('VALIDATION_FAILED', ['INVALID_TOKEN', 'unknown, used or expired'])
  async reset(@Body() dto: ResetPasswordDto, @Client() client: ClientContext): Promise<void> {
    await this.accounts.resetPassword(dto, client);
  }

  @Post('email/verify')
  @Public()
  @HttpCode(204)
  @ApiOperation({ summary: 'Verify my email address with the emailed token' })
  @ApiNoContentResponse()
  @ApiProblems('VALIDATION_FAILED', ['INVALID_TOKEN', 'unknown, used or expired'])
  async verifyEmail(@Body() dto: VerifyEmailDto): Promise<void> {
    await this.accounts.verifyEmail(dto.token);
  }
}

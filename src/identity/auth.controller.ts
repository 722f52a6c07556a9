import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
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
  async register(@Body() dto: RegisterDto, @Client() client: ClientContext) {
    const user = await this.accounts.register(dto, client);
    return { id: user.id, email: user.email, displayName: user.displayName, roles: user.roles };
  }

  @Post('login')
  @Public()
  @HttpCode(200)
  @UseGuards(LocalLoginGuard)
  @ApiBody({ type: LoginDto })
  logIn(@Req() req: Request & { user: VerifiedUser }, @Body() dto: LoginDto, @Client() client: ClientContext) {
    return this.login.login(req.user, { purpose: 'login', email: dto.email, deviceToken: dto.deviceToken, ...client });
  }

  @Post('refresh')
  @Public()
  @HttpCode(200)
  async refresh(@Body() dto: RefreshDto, @Client() client: ClientContext) {
    const pair = await this.sessions.refresh(dto.refreshToken, client);
    return { accessToken: pair.accessToken, refreshToken: pair.refreshToken, expiresIn: pair.expiresIn };
  }

  @Post('logout')
  @Roles('buyer')
  @ApiBearerAuth()
  @HttpCode(204)
  async logout(@CurrentUser() user: AuthUser): Promise<void> {
    await this.sessions.revoke(undefined, user.id, user.sessionId, 'logout');
  }

  @Post('reauth')
  @Roles('buyer')
  @ApiBearerAuth()
  @HttpCode(204)
  async reauth(@CurrentUser() user: AuthUser, @Body() dto: ReauthDto, @Client() client: ClientContext): Promise<void> {
    await this.login.reauthenticate(user, client, dto);
  }

  @Get('sessions')
  @Roles('buyer')
  @ApiBearerAuth()
  listSessions(@CurrentUser() user: AuthUser) {
    return this.sessions.list(user.id, user.sessionId);
  }

  @Delete('sessions/:id')
  @Roles('buyer')
  @ApiBearerAuth()
  @HttpCode(204)
  async revokeSession(@CurrentUser() user: AuthUser, @Param('id', new ParseUUIDPipe()) id: string): Promise<void> {
    if (!(await this.sessions.revoke(undefined, user.id, id, 'revoked_by_user'))) throw IdentityErrors.sessionNotFound();
  }

  @Post('password/change')
  @Roles('buyer')
  @ApiBearerAuth()
  @HttpCode(204)
  async changePassword(@CurrentUser() user: AuthUser, @Body() dto: ChangePasswordDto, @Client() client: ClientContext): Promise<void> {
    await this.accounts.changePassword(user, dto, client);
  }

  @Post('password/reset-request')
  @Public()
  @HttpCode(202)
  async requestReset(@Body() dto: ResetRequestDto): Promise<void> {
    await this.accounts.requestPasswordReset(dto.email);
  }

  @Post('password/reset')
  @Public()
  @HttpCode(204)
  async reset(@Body() dto: ResetPasswordDto, @Client() client: ClientContext): Promise<void> {
    await this.accounts.resetPassword(dto, client);
  }

  @Post('email/verify')
  @Public()
  @HttpCode(204)
  async verifyEmail(@Body() dto: VerifyEmailDto): Promise<void> {
    await this.accounts.verifyEmail(dto.token);
  }
}

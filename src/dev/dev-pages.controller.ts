import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '../common/auth.decorators';
import { resetPasswordPage, verifyEmailPage } from './dev-pages';

/**
 * The client pages emailed links open (WEB_APP_URL defaults to PUBLIC_URL), served only with
 * DEV_ROUTES=true. HTML, not API: left out of the OpenAPI document.
 */
@ApiExcludeController()
@Controller()
export class DevPagesController {
  @Get('verify-email')
  @Public()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  verifyEmail(): string {
    return verifyEmailPage;
  }

  @Get('reset-password')
  @Public()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  resetPassword(): string {
    return resetPasswordPage;
  }
}

import { Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, Roles, Sensitive } from '../common/auth.decorators';
import { PageQuery } from '../common/pagination';
import { ClientContext } from '../identity/identity.hooks';
import { Client } from '../identity/request-context';
import { AccountGuardService } from './account-guard.service';
import { SecurityEventsService } from './security-events.service';

@ApiTags('me')
@ApiBearerAuth()
@Controller('me')
export class MeSecurityController {
  constructor(
    private readonly guard: AccountGuardService,
    private readonly events: SecurityEventsService,
  ) {}

  /** Stops all outgoing value at once. */
  @Post('freeze')
  @Roles('buyer')
  @HttpCode(200)
  freeze(@CurrentUser() user: AuthUser, @Client() client: ClientContext) {
    return this.guard.freeze(user.id, client.ip);
  }

  /** Takes effect after the delay (24 h), so a thief cannot unfreeze and drain at once. */
  @Post('unfreeze')
  @Roles('buyer')
  @Sensitive()
  @HttpCode(202)
  unfreeze(@CurrentUser() user: AuthUser, @Client() client: ClientContext) {
    return this.guard.requestUnfreeze(user.id, client.ip);
  }

  @Get('security-events')
  @Roles('buyer')
  securityEvents(@CurrentUser() user: AuthUser, @Query() q: PageQuery) {
    return this.events.list(user.id, q);
  }
}

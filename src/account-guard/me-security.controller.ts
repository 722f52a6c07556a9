import { Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, Roles, Sensitive } from '../common/auth.decorators';
import { PageQuery } from '../common/pagination';
import { ClientContext } from '../identity/identity.hooks';
import { Client } from '../identity/request-context';
import { AccountGuardService } from './account-guard.service';
import { SecurityEventsService } from './security-events.service';
import { ApiProblems, REAUTH, SIGNED_IN } from '../common/api-problems';
import { AccountStateDto } from '../identity/dto/views';
import { SecurityEventPage } from './dto/views';

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
  @ApiOperation({ summary: 'Freeze my account now: no value leaves it until an unfreeze takes effect' })
  @ApiOkResponse({ type: AccountStateDto })
  @ApiProblems(...SIGNED_IN)
  freeze(@CurrentUser() user: AuthUser, @Client() client: ClientContext) {
    return this.guard.freeze(user.id, client.ip);
  }

  /** Takes effect after the delay (24 h), so a thief cannot unfreeze and drain at once. */
  @Post('unfreeze')
  @Roles('buyer')
  @Sensitive()
  @HttpCode(202)
  @ApiOperation({ summary: 'Ask to unfreeze my account (re-authentication required); it takes effect after the delay (`unfreezeAt`)' })
  @ApiAcceptedResponse({ type: AccountStateDto })
  @ApiProblems(...SIGNED_IN, REAUTH, ['INVALID_STATE', 'not frozen'])
  unfreeze(@CurrentUser() user: AuthUser, @Client() client: ClientContext) {
    return this.guard.requestUnfreeze(user.id, client.ip);
  }

  @Get('security-events')
  @Roles('buyer')
  @ApiOperation({ summary: 'My security event history, newest first' })
  @ApiOkResponse({ type: SecurityEventPage })
  @ApiProblems('VALIDATION_FAILED', ...SIGNED_IN)
  securityEvents(@CurrentUser() user: AuthUser, @Query() q: PageQuery) {
    return this.events.list(user.id, q);
  }
}

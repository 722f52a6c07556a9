import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, Roles } from '../../common/auth.decorators';
import { IdParam } from '../../common/api-docs';
import { ClientContext } from '../../identity/identity.hooks';
import { Client } from '../../identity/request-context';
import { originOf } from '../../orders/request-origin';
import { ApplicationsService } from './applications.service';
import { ApiProblems } from '../../common/api-problems';
import { CreateApplicationDto } from '../dto/applications.dto';
import { ApplicationView, MyApplicationView } from '../dto/views';

@ApiTags('resellers')
@ApiBearerAuth()
@Controller('reseller-applications')
@Roles('buyer')
export class ApplicationsController {
  constructor(private readonly applications: ApplicationsService) {}

  @Post()
  @ApiOperation({ summary: 'Apply to become a reseller (eligibility checked first; the fraud engine decides reseller_application)' })
  @ApiCreatedResponse({ type: ApplicationView })
  @ApiProblems(
    'VALIDATION_FAILED',
    'UNAUTHENTICATED',
    ['NOT_ELIGIBLE', '`checks`: every failed eligibility check and its value'],
    'FRAUD_BLOCKED',
    ['CONFLICT', 'an application in progress: APPLICATION_OPEN, or a reseller already: ALREADY_RESELLER'],
  )
  submit(@CurrentUser() user: AuthUser, @Body() dto: CreateApplicationDto, @Client() client: ClientContext) {
    return this.applications.submit(user.id, dto, originOf(user, client));
  }

  @Get('me')
  @ApiOperation({ summary: 'My latest reseller application and its status, with the earlier ones and my reseller status' })
  @ApiOkResponse({ type: MyApplicationView })
  @ApiProblems('UNAUTHENTICATED', ['NOT_FOUND', 'never applied'])
  mine(@CurrentUser() user: AuthUser) {
    return this.applications.mine(user.id);
  }

  @Post(':id/withdraw')
  @HttpCode(200)
  @ApiOperation({ summary: 'Withdraw my application while it is in progress' })
  @ApiOkResponse({ type: ApplicationView })
  @ApiProblems('VALIDATION_FAILED', 'UNAUTHENTICATED', ['NOT_FOUND', 'no such application of yours'], ['INVALID_STATE', 'decided already'])
  withdraw(@CurrentUser() user: AuthUser, @IdParam() id: string) {
    return this.applications.withdraw(user.id, id);
  }
}

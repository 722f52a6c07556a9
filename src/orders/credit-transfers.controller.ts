import { Body, Controller, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, Roles, Sensitive } from '../common/auth.decorators';
import { IdempotentRequest } from '../common/idempotency/idempotency.service';
import { Idempotent, IdempotentRequestOf } from '../common/idempotency/idempotent.decorator';
import { ClientContext } from '../identity/identity.hooks';
import { Client } from '../identity/request-context';
import { CreditTransfersService } from './credit-transfers.service';
import { CreateCreditTransferDto } from './dto/orders.dto';
import { originOf } from './request-origin';
import { ACCOUNT_STATE, ApiProblems, IDEMPOTENCY, REAUTH, SIGNED_IN } from '../common/api-problems';
import { CreditTransferDto } from './dto/order.views';

@ApiTags('ledger')
@ApiBearerAuth()
@Controller('credit-transfers')
export class CreditTransfersController {
  constructor(private readonly transfers: CreditTransfersService) {}

  @Post()
  @Roles('buyer')
  @Sensitive()
  @Idempotent()
  @ApiOperation({ summary: 'Gift credits to another user (re-authentication required); held for review when the fraud rules say so' })
  @ApiCreatedResponse({ type: CreditTransferDto })
  @ApiProblems(
    ['VALIDATION_FAILED', 'also to oneself'],
    ...SIGNED_IN,
    REAUTH,
    ['FORBIDDEN', 'email not verified (EMAIL_NOT_VERIFIED)'],
    ['RECIPIENT_NOT_ALLOWED', 'a reseller'],
    ['NOT_FOUND', 'no such recipient'],
    ...ACCOUNT_STATE,
    ['LIMIT_EXCEEDED', 'gift caps'],
    'FRAUD_BLOCKED',
    'INSUFFICIENT_FUNDS',
    ...IDEMPOTENCY,
  )
  create(
    @CurrentUser() user: AuthUser,
    @Body() dto: CreateCreditTransferDto,
    @IdempotentRequestOf() request: IdempotentRequest,
    @Client() client: ClientContext,
  ) {
    return this.transfers.transfer(user.id, dto, request, originOf(user, client));
  }
}

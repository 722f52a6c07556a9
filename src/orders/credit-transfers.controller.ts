import { Body, Controller, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, Roles, Sensitive } from '../common/auth.decorators';
import { IdempotentRequest } from '../common/idempotency/idempotency.service';
import { Idempotent, IdempotentRequestOf } from '../common/idempotency/idempotent.decorator';
import { ClientContext } from '../identity/identity.hooks';
import { Client } from '../identity/request-context';
import { CreditTransfersService } from './credit-transfers.service';
import { CreateCreditTransferDto } from './dto/orders.dto';
import { originOf } from './request-origin';

@ApiTags('ledger')
@ApiBearerAuth()
@Controller('credit-transfers')
export class CreditTransfersController {
  constructor(private readonly transfers: CreditTransfersService) {}

  @Post()
  @Roles('buyer')
  @Sensitive()
  @Idempotent()
  create(
    @CurrentUser() user: AuthUser,
    @Body() dto: CreateCreditTransferDto,
    @IdempotentRequestOf() request: IdempotentRequest,
    @Client() client: ClientContext,
  ) {
    return this.transfers.transfer(user.id, dto, request, originOf(user, client));
  }
}

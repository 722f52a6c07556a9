import { Body, Controller, Get, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, Roles } from '../../common/auth.decorators';
import { IdempotentRequest } from '../../common/idempotency/idempotency.service';
import { Idempotent, IdempotentRequestOf } from '../../common/idempotency/idempotent.decorator';
import type { ClientContext } from '../../identity/identity.hooks';
import { Client } from '../../identity/request-context';
import { CreateTokenPurchaseDto } from './token-purchase.dto';
import { TokenPurchasesService } from './token-purchases.service';

@ApiTags('payments')
@ApiBearerAuth()
@Controller('token-purchases')
export class TokenPurchasesController {
  constructor(private readonly purchases: TokenPurchasesService) {}

  @Post()
  @Roles('buyer')
  @Idempotent()
  create(
    @CurrentUser() user: AuthUser,
    @Body() body: CreateTokenPurchaseDto,
    @Client() client: ClientContext,
    @IdempotentRequestOf() request: IdempotentRequest,
  ) {
    return this.purchases.create(user, body.packageId, { ip: client.ip, ipCountry: client.ipCountry ?? null }, request);
  }

  @Get(':id')
  @Roles('buyer')
  view(@CurrentUser() user: AuthUser, @Param('id', ParseUUIDPipe) id: string) {
    return this.purchases.view(user, id);
  }
}

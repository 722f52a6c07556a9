import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Roles } from '../common/auth.decorators';
import { verifyJson } from './ledger.json';
import { LedgerService } from './ledger.service';

@ApiTags('admin')
@ApiBearerAuth()
@Controller('admin/ledger')
export class AdminLedgerController {
  constructor(private readonly ledger: LedgerService) {}

  /** Seals what is pending, then recomputes every balance from postings and checks the hash chain. */
  @Get('verify')
  @Roles('admin')
  async verify() {
    return verifyJson(await this.ledger.verify());
  }
}

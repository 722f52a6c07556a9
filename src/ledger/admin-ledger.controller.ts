import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../common/auth.decorators';
import { verifyJson } from './ledger.json';
import { LedgerService } from './ledger.service';
import { ADMIN, ApiProblems } from '../common/api-problems';
import { AssetCheckDto, LedgerVerifyDto } from './dto/ledger.views';

@ApiTags('admin')
@ApiBearerAuth()
@Controller('admin/ledger')
export class AdminLedgerController {
  constructor(private readonly ledger: LedgerService) {}

  /** Seals what is pending, then recomputes every balance from postings and checks the hash chain. */
  @Get('verify')
  @Roles('admin')
  @ApiOperation({ summary: 'Verify the ledger: every balance recomputed from postings, each asset sums to 0, the hash chain holds' })
  @ApiExtraModels(AssetCheckDto)
  @ApiOkResponse({ type: LedgerVerifyDto })
  @ApiProblems(...ADMIN)
  async verify() {
    return verifyJson(await this.ledger.verify());
  }
}

import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../../common/auth.decorators';
import { PageQuery } from '../../common/pagination';
import { packageView, TokenPackagesService } from './token-packages.service';
import { ApiProblems } from '../../common/api-problems';
import { TokenPackagePage } from './token-package.views';

@ApiTags('payments')
@Controller('token-packages')
export class TokenPackagesController {
  constructor(private readonly packages: TokenPackagesService) {}

  @Get()
  @Public()
  @ApiOperation({ summary: 'The token packages on sale, cheapest first' })
  @ApiOkResponse({ type: TokenPackagePage })
  @ApiProblems('VALIDATION_FAILED')
  async list(@Query() q: PageQuery) {
    const page = await this.packages.list(q, { activeOnly: true, audience: 'public' });
    return { items: page.items.map(packageView), nextCursor: page.nextCursor };
  }
}

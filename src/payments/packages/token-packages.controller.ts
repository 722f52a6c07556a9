import { Controller, Get, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Public } from '../../common/auth.decorators';
import { PageQuery } from '../../common/pagination';
import { packageView, TokenPackagesService } from './token-packages.service';

@ApiTags('payments')
@Controller('token-packages')
export class TokenPackagesController {
  constructor(private readonly packages: TokenPackagesService) {}

  @Get()
  @Public()
  async list(@Query() q: PageQuery) {
    const page = await this.packages.list(q, { activeOnly: true, audience: 'public' });
    return { items: page.items.map(packageView), nextCursor: page.nextCursor };
  }
}

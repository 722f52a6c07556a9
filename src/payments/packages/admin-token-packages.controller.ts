import { Body, Controller, Get, Param, ParseUUIDPipe, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, Roles } from '../../common/auth.decorators';
import { PageQuery } from '../../common/pagination';
import { CreateTokenPackageDto, UpdateTokenPackageDto } from './token-package.dto';
import { adminPackageView, TokenPackagesService } from './token-packages.service';

/** Package management; every change is audited with the package before and after. */
@ApiTags('admin')
@ApiBearerAuth()
@Controller('admin/token-packages')
export class AdminTokenPackagesController {
  constructor(private readonly packages: TokenPackagesService) {}

  @Get()
  @Roles('admin')
  async list(@Query() q: PageQuery) {
    const page = await this.packages.list(q, { activeOnly: false, audience: null });
    return { items: page.items.map(adminPackageView), nextCursor: page.nextCursor };
  }

  @Post()
  @Roles('admin')
  async create(@CurrentUser() admin: AuthUser, @Body() body: CreateTokenPackageDto) {
    return adminPackageView(await this.packages.create(admin.id, body));
  }

  @Patch(':id')
  @Roles('admin')
  async update(@CurrentUser() admin: AuthUser, @Param('id', ParseUUIDPipe) id: string, @Body() body: UpdateTokenPackageDto) {
    return adminPackageView(await this.packages.update(admin.id, id, body));
  }
}

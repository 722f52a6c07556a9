import { Body, Controller, Get, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, Roles } from '../../common/auth.decorators';
import { PageQuery } from '../../common/pagination';
import { CreateTokenPackageDto, UpdateTokenPackageDto } from './token-package.dto';
import { adminPackageView, TokenPackagesService } from './token-packages.service';
import { IdParam } from '../../common/api-docs';
import { ADMIN, ApiProblems } from '../../common/api-problems';
import { AdminTokenPackageDto, AdminTokenPackagePage } from './token-package.views';

/** Package management; every change is audited with the package before and after. */
@ApiTags('admin')
@ApiBearerAuth()
@Controller('admin/token-packages')
export class AdminTokenPackagesController {
  constructor(private readonly packages: TokenPackagesService) {}

  @Get()
  @Roles('admin')
  @ApiOperation({ summary: 'Every token package, wholesale and retired ones included' })
  @ApiOkResponse({ type: AdminTokenPackagePage })
  @ApiProblems('VALIDATION_FAILED', ...ADMIN)
  async list(@Query() q: PageQuery) {
    const page = await this.packages.list(q, { activeOnly: false, audience: null });
    return { items: page.items.map(adminPackageView), nextCursor: page.nextCursor };
  }

  @Post()
  @Roles('admin')
  @ApiOperation({ summary: 'Create a token package (audited)' })
  @ApiCreatedResponse({ type: AdminTokenPackageDto })
  @ApiProblems(['VALIDATION_FAILED', 'also a reseller package with bonusPromo'], ...ADMIN)
  async create(@CurrentUser() admin: AuthUser, @Body() body: CreateTokenPackageDto) {
    return adminPackageView(await this.packages.create(admin.id, body));
  }

  @Patch(':id')
  @Roles('admin')
  @ApiOperation({ summary: 'Change a token package: any of its fields (audited; purchases keep the terms they were made on)' })
  @ApiOkResponse({ type: AdminTokenPackageDto })
  @ApiProblems(['VALIDATION_FAILED', 'also nothing to change, or a reseller package with bonusPromo'], ...ADMIN, 'NOT_FOUND')
  async update(@CurrentUser() admin: AuthUser, @IdParam() id: string, @Body() body: UpdateTokenPackageDto) {
    return adminPackageView(await this.packages.update(admin.id, id, body));
  }
}

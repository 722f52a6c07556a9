import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, Roles } from '../common/auth.decorators';
import { CatalogService } from './catalog.service';
import { ApproveListingDto, ModerationReasonDto } from './dto/listing.dto';
import { idPipe } from '../common/id.pipe';

@ApiTags('admin')
@ApiBearerAuth()
@Controller('admin/listings')
@Roles('admin')
export class AdminCatalogController {
  constructor(private readonly catalog: CatalogService) {}

  @Post(':id/approve')
  @HttpCode(200)
  approve(@CurrentUser() admin: AuthUser, @Param('id', idPipe()) id: string, @Body() dto: ApproveListingDto) {
    return this.catalog.moderate(admin.id, id, 'approve', dto.reason);
  }

  @Post(':id/reject')
  @HttpCode(200)
  reject(@CurrentUser() admin: AuthUser, @Param('id', idPipe()) id: string, @Body() dto: ModerationReasonDto) {
    return this.catalog.moderate(admin.id, id, 'reject', dto.reason);
  }

  @Post(':id/delist')
  @HttpCode(200)
  delist(@CurrentUser() admin: AuthUser, @Param('id', idPipe()) id: string, @Body() dto: ModerationReasonDto) {
    return this.catalog.moderate(admin.id, id, 'delist', dto.reason);
  }
}

import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { IdParam } from '../common/api-docs';
import { ADMIN, ApiProblems, Problem } from '../common/api-problems';
import { AuthUser, CurrentUser, Roles } from '../common/auth.decorators';
import { CatalogService } from './catalog.service';
import { AdminListingsQuery, ApproveListingDto, ModerationReasonDto } from './dto/listing.dto';
import { AdminListingPage, ListingDto } from './dto/listing.views';
import { ListingSearchService } from './listing-search.service';

const MODERATION: Problem[] = ['VALIDATION_FAILED', ...ADMIN, 'NOT_FOUND'];

@ApiTags('admin')
@ApiBearerAuth()
@Controller('admin/listings')
@Roles('admin')
export class AdminCatalogController {
  constructor(
    private readonly catalog: CatalogService,
    private readonly search: ListingSearchService,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Listings in every state, newest first (status=pending_review: the moderation queue; creatorId; created range)',
  })
  @ApiOkResponse({ type: AdminListingPage })
  @ApiProblems('VALIDATION_FAILED', ...ADMIN)
  list(@Query() q: AdminListingsQuery) {
    return this.search.adminList(q);
  }

  @Post(':id/approve')
  @HttpCode(200)
  @ApiOperation({ summary: 'Approve a listing pending review: it is published' })
  @ApiOkResponse({ type: ListingDto })
  @ApiProblems(...MODERATION, ['INVALID_STATE', 'not pending_review'])
  approve(@CurrentUser() admin: AuthUser, @IdParam() id: string, @Body() dto: ApproveListingDto) {
    return this.catalog.moderate(admin.id, id, 'approve', dto.reason);
  }

  @Post(':id/reject')
  @HttpCode(200)
  @ApiOperation({ summary: 'Reject a listing pending review, with the reason (its moderation note)' })
  @ApiOkResponse({ type: ListingDto })
  @ApiProblems(...MODERATION, ['INVALID_STATE', 'not pending_review'])
  reject(@CurrentUser() admin: AuthUser, @IdParam() id: string, @Body() dto: ModerationReasonDto) {
    return this.catalog.moderate(admin.id, id, 'reject', dto.reason);
  }

  @Post(':id/delist')
  @HttpCode(200)
  @ApiOperation({ summary: 'Delist a published listing: no longer on sale; owners keep their items' })
  @ApiOkResponse({ type: ListingDto })
  @ApiProblems(...MODERATION, ['INVALID_STATE', 'not published'])
  delist(@CurrentUser() admin: AuthUser, @IdParam() id: string, @Body() dto: ModerationReasonDto) {
    return this.catalog.moderate(admin.id, id, 'delist', dto.reason);
  }
}

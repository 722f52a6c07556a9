import { Body, Controller, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, Public, Roles } from '../common/auth.decorators';
import { IdempotentRequest } from '../common/idempotency/idempotency.service';
import { Idempotent, IdempotentRequestOf } from '../common/idempotency/idempotent.decorator';
import { PageQuery } from '../common/pagination';
import { CatalogService } from './catalog.service';
import { CreatorsService } from './creators.service';
import { CreateListingDto, SearchListingsQuery, SubmitListingDto, UpdateListingDto } from './dto/listing.dto';
import { ListingSearchService } from './listing-search.service';
import { IdParam } from '../common/api-docs';
import { ApiProblems, IDEMPOTENCY, SIGNED_IN } from '../common/api-problems';
import { CreatorDto, ListingDetailDto, ListingDto, ListingPage, PublicListingPage } from './dto/listing.views';

@ApiTags('catalog')
@Controller()
export class CatalogController {
  constructor(
    private readonly catalog: CatalogService,
    private readonly creators: CreatorsService,
    private readonly search: ListingSearchService,
  ) {}

  @Post('creators/me')
  @ApiBearerAuth()
  @Roles('buyer')
  @ApiOperation({ summary: 'Become a creator: adds the creator role' })
  @ApiCreatedResponse({ type: CreatorDto })
  @ApiProblems(...SIGNED_IN)
  becomeCreator(@CurrentUser() user: AuthUser) {
    return this.creators.become(user.id);
  }

  @Post('listings')
  @ApiBearerAuth()
  @Roles('creator')
  @ApiOperation({ summary: 'Create a draft listing; its price is derived (derivation cost + profit + platform fee)' })
  @ApiCreatedResponse({ type: ListingDto })
  @ApiProblems(
    ['VALIDATION_FAILED', 'also a derivation chain too long'],
    ...SIGNED_IN,
    ['FORBIDDEN', 'not a creator'],
    ['NOT_FOUND', 'no such parent listing'],
    ['INVALID_STATE', 'the parent is not published'],
  )
  create(@CurrentUser() user: AuthUser, @Body() dto: CreateListingDto) {
    return this.catalog.create(user.id, dto);
  }

  @Patch('listings/:id')
  @ApiBearerAuth()
  @Roles('creator')
  @ApiOperation({ summary: 'Edit my draft listing' })
  @ApiOkResponse({ type: ListingDto })
  @ApiProblems('VALIDATION_FAILED', ...SIGNED_IN, ['FORBIDDEN', 'not a creator, or not its creator'], 'NOT_FOUND', [
    'INVALID_STATE',
    'not a draft',
  ])
  update(@CurrentUser() user: AuthUser, @IdParam() id: string, @Body() dto: UpdateListingDto) {
    return this.catalog.update(user.id, id, dto);
  }

  @Post('listings/:id/submit')
  @HttpCode(200)
  @ApiBearerAuth()
  @Roles('creator')
  @Idempotent()
  @ApiOperation({ summary: 'Submit my draft for review: the submission fee is charged, the listing goes to pending_review' })
  @ApiOkResponse({ type: ListingDto })
  @ApiProblems(
    'VALIDATION_FAILED',
    ...SIGNED_IN,
    ['FORBIDDEN', 'not a creator, or not its creator'],
    'NOT_FOUND',
    'ACCOUNT_ON_HOLD',
    'ACCOUNT_IN_DEBT',
    ['INVALID_STATE', 'not a draft'],
    'INSUFFICIENT_FUNDS',
    ...IDEMPOTENCY,
  )
  submit(
    @CurrentUser() user: AuthUser,
    @IdParam() id: string,
    @Body() dto: SubmitListingDto,
    @IdempotentRequestOf() request: IdempotentRequest,
  ) {
    return this.catalog.submit(user.id, id, dto.payWith ?? 'CREDIT', request);
  }

  @Get('listings')
  @Public()
  @ApiOperation({
    summary: 'Published listings, newest first (filters q, category, creatorId); admins find other states at GET /admin/listings',
  })
  @ApiOkResponse({ type: PublicListingPage })
  @ApiProblems(['VALIDATION_FAILED', 'also any other query parameter, `status` included'])
  list(@Query() q: SearchListingsQuery) {
    return this.search.search(q);
  }

  @Get('listings/:id')
  @Public()
  @ApiOperation({ summary: 'A published (or delisted) listing with its derivation chain and price breakdown' })
  @ApiOkResponse({ type: ListingDetailDto })
  @ApiProblems('VALIDATION_FAILED', 'NOT_FOUND')
  get(@IdParam() id: string) {
    return this.search.detail(id);
  }

  @Get('me/listings')
  @ApiBearerAuth()
  @Roles('buyer')
  @ApiOperation({ summary: 'My listings in every state, newest first, with their submission fee and moderation note' })
  @ApiOkResponse({ type: ListingPage })
  @ApiProblems('VALIDATION_FAILED', ...SIGNED_IN)
  mine(@CurrentUser() user: AuthUser, @Query() q: PageQuery) {
    return this.search.mine(user.id, q);
  }
}

import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, Public, Roles } from '../common/auth.decorators';
import { IdempotentRequest } from '../common/idempotency/idempotency.service';
import { Idempotent, IdempotentRequestOf } from '../common/idempotency/idempotent.decorator';
import { PageQuery } from '../common/pagination';
import { CatalogService } from './catalog.service';
import { CreatorsService } from './creators.service';
import { CreateListingDto, SearchListingsQuery, SubmitListingDto, UpdateListingDto } from './dto/listing.dto';
import { idPipe } from '../common/id.pipe';
import { ListingSearchService } from './listing-search.service';

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
  becomeCreator(@CurrentUser() user: AuthUser) {
    return this.creators.become(user.id);
  }

  @Post('listings')
  @ApiBearerAuth()
  @Roles('creator')
  create(@CurrentUser() user: AuthUser, @Body() dto: CreateListingDto) {
    return this.catalog.create(user.id, dto);
  }

  @Patch('listings/:id')
  @ApiBearerAuth()
  @Roles('creator')
  update(@CurrentUser() user: AuthUser, @Param('id', idPipe()) id: string, @Body() dto: UpdateListingDto) {
    return this.catalog.update(user.id, id, dto);
  }

  @Post('listings/:id/submit')
  @HttpCode(200)
  @ApiBearerAuth()
  @Roles('creator')
  @Idempotent()
  submit(
    @CurrentUser() user: AuthUser,
    @Param('id', idPipe()) id: string,
    @Body() dto: SubmitListingDto,
    @IdempotentRequestOf() request: IdempotentRequest,
  ) {
    return this.catalog.submit(user.id, id, dto.payWith ?? 'CREDIT', request);
  }

  @Get('listings')
  @Public()
  list(@Query() q: SearchListingsQuery) {
    return this.search.search(q);
  }

  @Get('listings/:id')
  @Public()
  get(@Param('id', idPipe()) id: string) {
    return this.search.detail(id);
  }

  @Get('me/listings')
  @ApiBearerAuth()
  @Roles('buyer')
  mine(@CurrentUser() user: AuthUser, @Query() q: PageQuery) {
    return this.search.mine(user.id, q);
  }
}

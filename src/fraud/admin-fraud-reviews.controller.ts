import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, Roles } from '../common/auth.decorators';
import { DecisionsService } from './decisions.service';
import { DecideReviewDto, ReviewsQuery } from './dto/reviews.dto';
import { ReviewsService } from './reviews.service';
import { ADMIN, ApiProblems } from '../common/api-problems';
import { IdParam } from '../common/api-docs';
import { ReviewDto, ReviewExplainedDto, ReviewPage } from './dto/views';

/** The review queue: escalated cases first, each with its decision; a case is decided once. */
@ApiTags('admin')
@ApiBearerAuth()
@Controller('admin/fraud/reviews')
@Roles('admin')
export class AdminFraudReviewsController {
  constructor(
    private readonly reviews: ReviewsService,
    private readonly decisions: DecisionsService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'The review queue: escalated cases first, each with its decision' })
  @ApiOkResponse({ type: ReviewPage })
  @ApiProblems('VALIDATION_FAILED', ...ADMIN)
  async list(@Query() q: ReviewsQuery) {
    const page = await this.reviews.list(q);
    return { items: await this.decisions.attach(page.items), nextCursor: page.nextCursor };
  }

  /** The case with its decision explained. */
  @Get(':id')
  @ApiOperation({ summary: 'One review case with its decision explained' })
  @ApiOkResponse({ type: ReviewExplainedDto })
  @ApiProblems('VALIDATION_FAILED', ...ADMIN, 'NOT_FOUND')
  async get(@IdParam() id: string) {
    const review = await this.reviews.get(id);
    return { ...review, decision: await this.decisions.explain(review.decisionId) };
  }

  @Post(':id/approve')
  @HttpCode(200)
  @ApiOperation({ summary: 'Approve the reviewed action: its module carries it out' })
  @ApiOkResponse({ type: ReviewDto })
  @ApiProblems('VALIDATION_FAILED', ...ADMIN, 'NOT_FOUND', ['INVALID_STATE', 'decided already'])
  approve(@CurrentUser() admin: AuthUser, @IdParam() id: string, @Body() dto: DecideReviewDto) {
    return this.reviews.decide(id, admin.id, 'approve', dto.note);
  }

  @Post(':id/reject')
  @HttpCode(200)
  @ApiOperation({ summary: 'Reject the reviewed action: its module undoes it' })
  @ApiOkResponse({ type: ReviewDto })
  @ApiProblems('VALIDATION_FAILED', ...ADMIN, 'NOT_FOUND', ['INVALID_STATE', 'decided already'])
  reject(@CurrentUser() admin: AuthUser, @IdParam() id: string, @Body() dto: DecideReviewDto) {
    return this.reviews.decide(id, admin.id, 'reject', dto.note);
  }
}

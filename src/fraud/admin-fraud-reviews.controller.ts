import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, Roles } from '../common/auth.decorators';
import { idPipe } from '../common/id.pipe';
import { DecisionsService } from './decisions.service';
import { DecideReviewDto, ReviewsQuery } from './dto/reviews.dto';
import { ReviewsService } from './reviews.service';

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
  async list(@Query() q: ReviewsQuery) {
    const page = await this.reviews.list(q);
    return { items: await this.decisions.attach(page.items), nextCursor: page.nextCursor };
  }

  /** The case with its decision explained. */
  @Get(':id')
  async get(@Param('id', idPipe()) id: string) {
    const review = await this.reviews.get(id);
    return { ...review, decision: await this.decisions.explain(review.decisionId) };
  }

  @Post(':id/approve')
  @HttpCode(200)
  approve(@CurrentUser() admin: AuthUser, @Param('id', idPipe()) id: string, @Body() dto: DecideReviewDto) {
    return this.reviews.decide(id, admin.id, 'approve', dto.note);
  }

  @Post(':id/reject')
  @HttpCode(200)
  reject(@CurrentUser() admin: AuthUser, @Param('id', idPipe()) id: string, @Body() dto: DecideReviewDto) {
    return this.reviews.decide(id, admin.id, 'reject', dto.note);
  }
}

import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../../common/auth.decorators';
import { PageQuery } from '../../common/pagination';
import { ApiProblems } from '../../common/api-problems';
import { DirectoryPage } from '../dto/scorecard.dto';
import { ScorecardService } from './scorecard.service';

@ApiTags('resellers')
@Controller('resellers')
export class DirectoryController {
  constructor(private readonly scorecards: ScorecardService) {}

  @Get()
  @Public()
  @ApiOperation({ summary: 'Public directory: active resellers with regions, payment methods and trust score' })
  @ApiOkResponse({ type: DirectoryPage })
  @ApiProblems('VALIDATION_FAILED')
  list(@Query() q: PageQuery) {
    return this.scorecards.directory(q);
  }
}

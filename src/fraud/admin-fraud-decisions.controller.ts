import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Roles } from '../common/auth.decorators';
import { idPipe } from '../common/id.pipe';
import { DecisionsService } from './decisions.service';
import { DecisionsQuery } from './dto/decisions.dto';

@ApiTags('admin')
@ApiBearerAuth()
@Controller('admin/fraud/decisions')
@Roles('admin')
export class AdminFraudDecisionsController {
  constructor(private readonly decisions: DecisionsService) {}

  @Get()
  list(@Query() q: DecisionsQuery) {
    return this.decisions.list(q);
  }

  /** The decision with its feature values and, for every rule version it evaluated, the condition and what it read. */
  @Get(':id')
  get(@Param('id', idPipe()) id: string) {
    return this.decisions.explain(id);
  }
}

import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Roles } from '../common/auth.decorators';
import { BacktestService } from './backtest.service';
import { BacktestDto } from './dto/backtest.dto';

@ApiTags('admin')
@ApiBearerAuth()
@Controller('admin/fraud/backtest')
@Roles('admin')
export class AdminFraudBacktestController {
  constructor(private readonly backtests: BacktestService) {}

  /** Replays a draft rule over the stored events of the last `days` days; reads only. */
  @Post()
  @HttpCode(200)
  backtest(@Body() dto: BacktestDto) {
    return this.backtests.backtest(dto.rule, dto.days);
  }
}

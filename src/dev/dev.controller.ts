import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import { Public } from '../common/auth.decorators';
import { Clock } from '../common/clock.service';
import { JobsService } from '../jobs/jobs.service';
import { MailService } from '../notifications/mail.service';
import { OutboxService } from '../notifications/outbox.service';

class AdvanceClockDto {
  @IsInt()
  @Min(0)
  @Max(10 * 365 * 24 * 3600)
  advanceSeconds: number;
}

/** Development-only routes; the module is not even loaded unless DEV_ROUTES=true. */
@ApiTags('dev')
@Controller('dev')
export class DevController {
  constructor(
    private readonly clock: Clock,
    private readonly jobs: JobsService,
    private readonly mail: MailService,
    private readonly outbox: OutboxService,
  ) {}

  @Get('clock')
  @Public()
  now() {
    return { now: this.clock.now().toISOString() };
  }

  @Post('clock')
  @Public()
  @HttpCode(200)
  async advance(@Body() body: AdvanceClockDto) {
    return { now: (await this.clock.advance(body.advanceSeconds)).toISOString() };
  }

  @Post('jobs/run')
  @Public()
  @HttpCode(200)
  async runJobs() {
    const result = await this.jobs.runDue();
    const delivered = await this.outbox.flush();
    return { ...result, outboxDelivered: delivered };
  }

  @Get('mailbox/:email')
  @Public()
  async mailbox(@Param('email') email: string) {
    return { items: await this.mail.devMailbox(email) };
  }
}

import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiProblems, UNEXPECTED } from '../common/api-problems';
import { Public } from '../common/auth.decorators';
import { Clock } from '../common/clock.service';
import { JobsService } from '../jobs/jobs.service';
import { MailService } from '../notifications/mail.service';
import { OutboxService } from '../notifications/outbox.service';
import { AdvanceClockDto, ClockDto, JobsRunDto, MailboxDto } from './dev.views';

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
  @ApiOperation({ summary: "Dev: the server's business time" })
  @ApiOkResponse({ type: ClockDto })
  @ApiProblems(UNEXPECTED)
  now() {
    return { now: this.clock.now().toISOString() };
  }

  @Post('clock')
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: 'Dev: move the business clock forward (shared by every server process)' })
  @ApiOkResponse({ type: ClockDto })
  @ApiProblems('VALIDATION_FAILED')
  async advance(@Body() body: AdvanceClockDto) {
    return { now: (await this.clock.advance(body.advanceSeconds)).toISOString() };
  }

  @Post('jobs/run')
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: 'Dev: run every scheduled job due now, drain the queues and the outbox, then answer' })
  @ApiOkResponse({ type: JobsRunDto })
  @ApiProblems(UNEXPECTED)
  async runJobs() {
    const result = await this.jobs.runDue();
    const delivered = await this.outbox.flush();
    return { ...result, outboxDelivered: delivered };
  }

  @Get('mailbox/:email')
  @Public()
  @ApiOperation({ summary: 'Dev: the messages "sent" to an address (verification tokens, codes)' })
  @ApiParam({ name: 'email', example: 'ada@example.com' })
  @ApiOkResponse({ type: MailboxDto })
  @ApiProblems(['VALIDATION_FAILED', 'the address holds a NUL character'])
  async mailbox(@Param('email') email: string) {
    return { items: await this.mail.devMailbox(email) };
  }
}

import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { AppConfig } from '../config/app-config';
import { JobsService } from '../jobs/jobs.service';
import { OutboxService } from '../notifications/outbox.service';

/** The checks of /health/live and /health/ready beside terminus's database ping. */
@Injectable()
export class HealthIndicators {
  constructor(
    private readonly indicator: HealthIndicatorService,
    private readonly jobs: JobsService,
    private readonly outbox: OutboxService,
    private readonly config: AppConfig,
  ) {}

  process(): HealthIndicatorResult {
    return this.indicator.check('process').up({ pid: process.pid, uptimeSeconds: Math.round(process.uptime()) });
  }

  /** pg-boss is started in every process (queuing needs it); `workers` says whether this one runs the jobs. */
  jobRunner(): HealthIndicatorResult {
    const check = this.indicator.check('jobs');
    const state = this.jobs.state();
    return state.running ? check.up({ workers: state.workers }) : check.down({ message: 'the job runner (pg-boss) is not running' });
  }

  /** Down when the oldest message still to be delivered waited longer than HEALTH_OUTBOX_MAX_LAG_SECONDS. */
  async outboxLag(): Promise<HealthIndicatorResult> {
    const check = this.indicator.check('outbox');
    const maxLagSeconds = this.config.ops.outboxMaxLagSeconds;
    try {
      const b = await this.outbox.backlog();
      const data = { pending: b.pending, lagSeconds: Math.round(b.lagSeconds), maxLagSeconds };
      return b.lagSeconds > maxLagSeconds ? check.down({ ...data, message: 'outbox delivery is lagging' }) : check.up(data);
    } catch (err) {
      return check.down({ message: `cannot read the outbox: ${(err as Error).message}` });
    }
  }
}

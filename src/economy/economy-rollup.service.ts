import { Injectable, OnModuleInit } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { gauge } from '../common/metrics';
import { TransactionRunner } from '../database/transaction-runner';
import { JobsService } from '../jobs/jobs.service';
import { EconomyRollupRepository } from './economy-rollup.repository';

export const ROLLUP_JOB = 'economy.rollup';

const lag = gauge(
  'economy_rollup_lag_seconds',
  "How far the economy report's rollup of the sales ends before now, at its last run (the report reads the rest live)",
);

/** An order's transaction commits well within this of reading the clock for its time: older sales are all visible. */
export const SALES_SETTLED_MS = 10 * 60_000;

/**
 * The rollup of the orders the economy report reads (docs/economy.md, "Speed"): every 5 minutes the
 * sales created since the last run are counted into their days, up to a watermark that only moves
 * over sales already visible. An order held for review is not a sale; approved later, it becomes one
 * at its own old time, and the run after rolls up its day and the later ones again. The report reads
 * the rest live, so it never waits for the job.
 */
@Injectable()
export class EconomyRollupService implements OnModuleInit {
  constructor(
    private readonly jobs: JobsService,
    private readonly tx: TransactionRunner,
    private readonly repo: EconomyRollupRepository,
  ) {}

  onModuleInit(): void {
    this.jobs.registerPeriodic({ name: ROLLUP_JOB, cron: '*/5 * * * *', run: (now) => this.catchUp(now) });
  }

  /** Rolls the sales up to the watermark; answers it. */
  async catchUp(now: Date): Promise<Date | null> {
    const until = await this.tx.run((em) => this.rollUp(em, now));
    if (until) lag.set((now.getTime() - until.getTime()) / 1000);
    return until;
  }

  /** Empties the rollup and rolls up every sale again from the orders, in one transaction. */
  rebuild(now: Date): Promise<Date | null> {
    return this.tx.run(async (em) => {
      await this.repo.until(em, true);
      await this.repo.clear(em);
      return this.rollUp(em, now);
    });
  }

  private async rollUp(em: EntityManager, now: Date): Promise<Date | null> {
    let from = await this.repo.until(em, true);
    // No watermark, or facts lost under it: start again from the first sale, with nothing left of the rollup.
    if (!from || (await this.repo.empty(em))) {
      await this.repo.clear(em);
      from = null;
    }
    const to = new Date(now.getTime() - SALES_SETTLED_MS);
    if (from && to.getTime() <= from.getTime()) return from;
    // A held order approved since the last run is a sale at its own time: its day on is rolled up again.
    const changed = from && (await this.repo.changedSince(em, from));
    if (changed) {
      await this.repo.forgetFrom(em, changed);
      from = changed;
    }
    await this.repo.rollUp(em, from, to, now);
    return to;
  }
}

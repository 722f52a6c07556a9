import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { TransactionRunner } from '../../database/transaction-runner';
import { JobsService } from '../../jobs/jobs.service';
import { ResellerFlagChecks } from './reseller-flag-checks';
import { ResellerStatusService } from './reseller-status.service';
import { Reseller, ResellersRepository } from '../resellers.repository';

export const SUSPEND_FLAGGED_JOB = 'resellers.suspend-flagged';
const PAGE = 200;

/**
 * Suspends active resellers whose account the account guard or the fraud engine flagged since the
 * reseller last became active (reseller-flag-checks.ts), every five minutes on the business clock.
 * Each suspension is its own transaction, re-checked under the reseller's row lock; the reason names
 * every flag, the actor is the system (null).
 */
@Injectable()
export class ResellerFlagsJob implements OnModuleInit {
  private readonly log = new Logger('Resellers');

  constructor(
    private readonly dataSource: DataSource,
    private readonly tx: TransactionRunner,
    private readonly jobs: JobsService,
    private readonly resellers: ResellersRepository,
    private readonly checks: ResellerFlagChecks,
    private readonly status: ResellerStatusService,
  ) {}

  onModuleInit(): void {
    this.jobs.registerPeriodic({ name: SUSPEND_FLAGGED_JOB, cron: '*/5 * * * *', run: () => this.suspendFlagged() });
  }

  /** Answers the ids of the resellers it suspended. */
  async suspendFlagged(): Promise<string[]> {
    const suspended: string[] = [];
    for (let after: string | null = null; ;) {
      const page: Reseller[] = await this.resellers.list(this.dataSource, { status: 'active', after, limit: PAGE });
      if (!page.length) break;
      const flagged = await this.tx.run((em) => this.checks.flagsOf(em, page.map(subject)));
      for (const userId of flagged.keys()) if (await this.suspendIfStillFlagged(userId)) suspended.push(userId);
      after = page[page.length - 1].userId;
    }
    return suspended;
  }

  private suspendIfStillFlagged(userId: string): Promise<boolean> {
    return this.tx.run(async (em) => {
      const r = await this.resellers.lock(em, userId);
      if (r?.status !== 'active') return false;
      const flags = (await this.checks.flagsOf(em, [subject(r)])).get(userId);
      if (!flags?.length || !(await this.status.suspendAutomatically(em, userId, flags.join('; ')))) return false;
      this.log.warn(`reseller ${userId} suspended automatically: ${flags.join('; ')}`);
      return true;
    });
  }
}

/** An active reseller's flags count from when it became active (approval, re-approval or reinstatement). */
const subject = (r: Reseller) => ({ userId: r.userId, since: r.statusChangedAt });

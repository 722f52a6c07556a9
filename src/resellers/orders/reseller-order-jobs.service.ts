import { Injectable, OnModuleInit } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { TransactionRunner } from '../../database/transaction-runner';
import { JobsService } from '../../jobs/jobs.service';
import { LedgerService } from '../../ledger/ledger.service';
import { OrderDisputesService } from './order-disputes.service';
import { returnEntry } from './reseller-order-entries';
import { ResellerOrderSteps, SYSTEM } from './reseller-order-steps.service';
import { ResellerOrder, ResellerOrdersRepository } from './reseller-orders.repository';

export const EXPIRY_JOB = 'resellers.expire-unpaid-orders';
export const AUTO_DISPUTE_JOB = 'resellers.dispute-unconfirmed-orders';
const BATCH = 100;

/**
 * The reseller orders' scheduled work on the business clock: unpaid orders past `expires_at` expire
 * (escrow → the reseller's stock); paid orders past `confirm_due_at` become disputes opened by the
 * system. Each batch is one transaction over rows claimed with SKIP LOCKED, so several processes can
 * run the jobs at once, and an order a request holds locked is simply taken on the next run.
 */
@Injectable()
export class ResellerOrderJobs implements OnModuleInit {
  constructor(
    private readonly tx: TransactionRunner,
    private readonly config: AppConfig,
    private readonly jobs: JobsService,
    private readonly ledger: LedgerService,
    private readonly steps: ResellerOrderSteps,
    private readonly disputes: OrderDisputesService,
    private readonly orders: ResellerOrdersRepository,
  ) {}

  onModuleInit(): void {
    this.jobs.registerPeriodic({ name: EXPIRY_JOB, run: (now) => this.expireDue(now) });
    this.jobs.registerPeriodic({ name: AUTO_DISPUTE_JOB, run: (now) => this.disputeUnconfirmed(now) });
  }

  expireDue(now: Date): Promise<number> {
    return this.inBatches(
      (em) => this.orders.claimExpired(em, now, BATCH),
      async (em, order) => {
        const status = this.steps.next(order, 'expire');
        await this.ledger.post(em, returnEntry(order, 'expired'));
        await this.steps.step(em, order, { ...order, status, closedAt: now }, SYSTEM);
      },
    );
  }

  disputeUnconfirmed(now: Date): Promise<number> {
    const hours = this.config.resellers.confirmDueHours;
    return this.inBatches(
      (em) => this.orders.claimUnconfirmed(em, now, BATCH),
      (em, order) => this.disputes.openBySystem(em, order, 'dispute', `Not confirmed within ${hours} hours of being marked paid`),
    );
  }

  private async inBatches(
    claim: (em: EntityManager) => Promise<ResellerOrder[]>,
    each: (em: EntityManager, o: ResellerOrder) => Promise<unknown>,
  ) {
    let total = 0;
    for (;;) {
      const n = await this.tx.run(async (em) => {
        const due = await claim(em);
        for (const order of due) await each(em, order);
        return due.length;
      });
      total += n;
      if (n < BATCH) return total;
    }
  }
}

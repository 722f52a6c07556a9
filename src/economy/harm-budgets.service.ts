import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { counter, gauge } from '../common/metrics';
import { addDays } from '../common/time';
import { afterCommit } from '../database/after-commit';
import { TransactionRunner } from '../database/transaction-runner';
import { IdentityService } from '../identity/identity.service';
import { JobsService } from '../jobs/jobs.service';
import { ASSETS, LedgerService } from '../ledger/ledger.service';
import { MailService } from '../notifications/mail.service';
import { EconomyReportRepository } from './economy-report.repository';
import { BreachRow, HarmBudgetsRepository } from './harm-budgets.repository';
import { BudgetVerdict, HarmBudgetsPolicy } from './harm-budgets.policy';

export const HARM_BUDGETS_JOB = 'economy.harm-budgets';

const breachesTotal = counter('harm_budget_breaches_total', 'Harm budget breaches recorded, by budget', ['budget']);
const harmRate = gauge('economy_harm_rate', "Each harm budget's rate over its window at the last daily check (absent: no base)", [
  'budget',
]);
const gmv = gauge('economy_gmv_credits', 'Items sold over the harm budget window at the last daily check, by asset paid with', ['asset']);
const supply = gauge('economy_supply_outstanding', 'Tokens in circulation (minted, not burned nor taken back) at the last daily check', [
  'asset',
]);

export interface BudgetCheck {
  verdicts: BudgetVerdict[];
  opened: BreachRow[];
  cleared: BreachRow[];
}

/**
 * The daily harm budget check: the last window's rates against their thresholds. A breach is recorded
 * once (a row, open until the rate is back under), logged at warn, counted and emailed to the admins
 * through the outbox; the check also refreshes the economy gauges of /metrics.
 */
@Injectable()
export class HarmBudgetsService implements OnModuleInit {
  private readonly logger = new Logger(HarmBudgetsService.name);

  constructor(
    private readonly jobs: JobsService,
    private readonly tx: TransactionRunner,
    private readonly dataSource: DataSource,
    private readonly report: EconomyReportRepository,
    private readonly breaches: HarmBudgetsRepository,
    private readonly policy: HarmBudgetsPolicy,
    private readonly identity: IdentityService,
    private readonly mail: MailService,
    private readonly ledger: LedgerService,
  ) {}

  onModuleInit(): void {
    this.jobs.registerPeriodic({ name: HARM_BUDGETS_JOB, cron: '7 0 * * *', run: (now) => this.check(now) });
  }

  async check(now: Date): Promise<BudgetCheck> {
    const from = addDays(now, -this.policy.windowDays);
    const r = await this.report.harmRates(this.dataSource, from, now);
    const verdicts = this.policy.judge({
      chargeback_rate: { numerator: BigInt(r.chargebacks), denominator: BigInt(r.settled_payments) },
      reseller_dispute_loss_rate: { numerator: BigInt(r.reseller_lost), denominator: BigInt(r.reseller_orders) },
      review_false_positive_share: { numerator: BigInt(r.reviews_approved), denominator: BigInt(r.reviews_decided) },
    });
    const result = await this.tx.run(async (em) => {
      const opened: BreachRow[] = [];
      const cleared: BreachRow[] = [];
      for (const v of verdicts) {
        if (v.breached) {
          const [row] = await this.breaches.record(em, v, this.policy.windowDays, now);
          if (row) {
            opened.push(row);
            await this.tellAdmins(em, row);
          }
        } else {
          cleared.push(...(await this.breaches.clear(em, v.budget, now)));
        }
      }
      afterCommit(em, () => {
        for (const b of opened) {
          breachesTotal.inc({ budget: b.budget });
          this.logger.warn(
            { budget: b.budget, numerator: b.numerator, denominator: b.denominator, thresholdBp: b.threshold_bp },
            'harm budget breached',
          );
        }
      });
      return { verdicts, opened, cleared };
    });
    harmRate.reset();
    for (const v of verdicts) if (v.rate !== null) harmRate.set({ budget: v.budget }, v.rate);
    gmv.set({ asset: 'CREDIT' }, Number(r.gmv_credit));
    gmv.set({ asset: 'PROMO' }, Number(r.gmv_promo));
    const s = await this.ledger.supplyAt();
    for (const a of ASSETS) supply.set({ asset: a }, Number(s.assets[a].outstanding));
    return result;
  }

  private async tellAdmins(em: EntityManager, b: BreachRow): Promise<void> {
    const pct = (bp: number) => `${(bp / 100).toFixed(2)}%`;
    const observed = (Number(b.numerator) * 10_000) / Number(b.denominator);
    for (const to of await this.identity.adminEmails(em)) {
      await this.mail.send(em, {
        to,
        subject: `Harm budget breached: ${b.budget.replace(/_/g, ' ')}`,
        text: [
          `Over the last ${b.window_days} days the ${b.budget.replace(/_/g, ' ')} is ${pct(observed)} (${b.numerator} of ${b.denominator}),`,
          `above its budget of ${pct(b.threshold_bp)}. It stays on the economy report (GET /admin/economy/report) until it is back under.`,
        ].join(' '),
        data: { kind: 'economy.harm_budget_breached', budget: b.budget, breachId: b.id },
      });
    }
  }
}

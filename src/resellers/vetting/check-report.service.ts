import { Injectable } from '@nestjs/common';
import { AccountGuardService } from '../../account-guard/account-guard.service';
import { Clock } from '../../common/clock.service';
import { addDays } from '../../common/time';
import { AppConfig } from '../../config/app-config';
import { DecisionSummary } from '../../fraud/decisions.service';
import { FraudService } from '../../fraud/fraud.service';
import { IdentityService } from '../../identity/identity.service';
import { PaymentsHistoryService } from '../../payments/history/payments-history.service';
import { CheckReport, ReportDecision } from './check-report';
import { EligibilityCheck, eligibilityChecks } from './eligibility.policy';
import { ResellersErrors } from '../resellers.errors';

/** How much of each history the report keeps (newest first). */
const REPORT_DECISIONS = 50;
const REPORT_SECURITY_EVENTS = 50;
const REPORT_LINKED_ACCOUNTS = 100;

export const reportDecision = (
  d: Pick<DecisionSummary, 'id' | 'eventType' | 'outcome' | 'score' | 'matchedRules' | 'createdAt'>,
): ReportDecision => ({
  id: d.id,
  eventType: d.eventType,
  outcome: d.outcome,
  score: d.score,
  matchedRules: d.matchedRules.map((r) => ({ ruleId: r.ruleId, name: r.name, action: r.action, mode: r.mode, score: r.score })),
  at: d.createdAt.toISOString(),
});

/**
 * Eligibility (eligibility.policy.ts on facts read from identity, the account guard and the fraud
 * engine) and the automated check report admins vet an application with. Everything is read from
 * committed state on connections of its own, before the caller opens its transaction.
 */
@Injectable()
export class CheckReportService {
  constructor(
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly identity: IdentityService,
    private readonly guard: AccountGuardService,
    private readonly fraud: FraudService,
    private readonly payments: PaymentsHistoryService,
  ) {}

  async eligibility(userId: string): Promise<EligibilityCheck[]> {
    const now = this.clock.now();
    const user = await this.identity.findUser(userId);
    if (!user) throw ResellersErrors.applicationNotFound();
    const c = this.config.resellers;
    return eligibilityChecks(
      {
        now,
        accountCreatedAt: user.createdAt,
        emailVerified: user.emailVerifiedAt !== null,
        twoFactorSince: await this.guard.twoFactorEnabledSince(userId),
        chargebacks: await this.fraud.countLabels(userId, 'chargeback'),
        recentFraudBlocks: await this.fraud.countDecisions(userId, { outcome: 'BLOCK', since: addDays(now, -c.fraudBlockLookbackDays) }),
      },
      c,
    );
  }

  async build(userId: string, eligibility: EligibilityCheck[]): Promise<CheckReport> {
    const [fraudDecisions, securityEvents, linkedAccounts, payments] = await Promise.all([
      this.fraud.recentDecisions(userId, REPORT_DECISIONS),
      this.guard.recentSecurityEvents(userId, REPORT_SECURITY_EVENTS),
      this.guard.linkedAccounts(userId, REPORT_LINKED_ACCOUNTS),
      this.payments.forUser(userId),
    ]);
    return {
      generatedAt: this.clock.now().toISOString(),
      eligibility,
      fraudDecisions: fraudDecisions.map(reportDecision),
      securityEvents,
      linkedAccounts,
      payments,
    };
  }
}

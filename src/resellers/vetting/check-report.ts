import type { LinkedAccount, SecurityEventView } from '../../account-guard/account-guard.service';
import type { PurchaseHistory } from '../../payments/history/payments-history.service';
import type { EligibilityCheck } from './eligibility.policy';

/** A fraud decision as the report keeps it. */
export interface ReportDecision {
  id: string;
  eventType: string;
  outcome: string;
  score: number;
  matchedRules: { ruleId: string; name: string; action: string; mode: string; score: number }[];
  at: string;
}

/** The sections read from other modules, each from one named source (CheckReportService). */
export interface SourcedSections {
  fraudDecisions: ReportDecision[];
  securityEvents: SecurityEventView[];
  linkedAccounts: LinkedAccount[];
  /** Purchases and disputes (payments' PaymentsHistoryService). */
  payments: PurchaseHistory;
}

/** The automated check report stored with an application (jsonb `check_report`) and with each renewal's audit entry. */
export interface CheckReport extends SourcedSections {
  generatedAt: string;
  eligibility: EligibilityCheck[];
  /** The fraud engine's decision on the application itself (absent on renewals). */
  applicationDecision?: ReportDecision;
}

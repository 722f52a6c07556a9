import type { LinkedAccount, SecurityEventView } from '../account-guard/account-guard.service';
import type { EligibilityCheck } from './eligibility.policy';

/** A section read from another module; `collected: false` when its source is not wired (nothing is made up). */
export type ReportSection<T> = { collected: true; items: T[] } | { collected: false; reason: string };

/** A fraud decision as the report keeps it. */
export interface ReportDecision {
  id: string;
  eventType: string;
  outcome: string;
  score: number;
  matchedRules: { ruleId: string; name: string; action: string; mode: string; score: number }[];
  at: string;
}

/**
 * The account's purchase and dispute history (payments' PaymentsHistoryService.forUser, part P):
 * wired at the merge, until then the section says it was not collected.
 */
export type PaymentsHistoryItem = Record<string, unknown>;

/** The sections read from other modules, each from one named source (CheckReportService). */
export interface SourcedSections {
  fraudDecisions: ReportSection<ReportDecision>;
  securityEvents: ReportSection<SecurityEventView>;
  linkedAccounts: ReportSection<LinkedAccount>;
  payments: ReportSection<PaymentsHistoryItem>;
}

/** The automated check report stored with an application (jsonb `check_report`) and with each renewal's audit entry. */
export interface CheckReport extends SourcedSections {
  generatedAt: string;
  eligibility: EligibilityCheck[];
  /** The fraud engine's decision on the application itself (absent on renewals). */
  applicationDecision?: ReportDecision;
}

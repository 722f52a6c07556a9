import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';

export const HARM_BUDGETS = ['chargeback_rate', 'reseller_dispute_loss_rate', 'review_false_positive_share'] as const;
export type HarmBudget = (typeof HARM_BUDGETS)[number];

/** What the last window holds for one budget: `numerator` harmful cases out of `denominator`. */
export interface HarmCount {
  numerator: bigint;
  denominator: bigint;
}

export interface BudgetVerdict extends HarmCount {
  budget: HarmBudget;
  thresholdBp: number;
  /** numerator / denominator; null when nothing happened (no base). */
  rate: number | null;
  breached: boolean;
}

/**
 * Harm budgets: a rate over the last `windowDays` above its threshold (in basis points of the base) is a
 * breach. Chargebacks per settled payment, reseller orders lost to a dispute per order opened, fraud
 * reviews approved per review decided (an approval says the review stopped a good customer).
 */
@Injectable()
export class HarmBudgetsPolicy {
  constructor(private readonly config: AppConfig) {}

  get windowDays(): number {
    return this.config.economy.harmBudgetWindowDays;
  }

  thresholdBp(budget: HarmBudget): number {
    const b = this.config.economy.harmBudgets;
    return {
      chargeback_rate: b.chargebackRateBp,
      reseller_dispute_loss_rate: b.resellerDisputeLossRateBp,
      review_false_positive_share: b.reviewFalsePositiveBp,
    }[budget];
  }

  judge(counts: Record<HarmBudget, HarmCount>): BudgetVerdict[] {
    return HARM_BUDGETS.map((budget) => {
      const { numerator, denominator } = counts[budget];
      const thresholdBp = this.thresholdBp(budget);
      return {
        budget,
        numerator,
        denominator,
        thresholdBp,
        rate: denominator > 0n ? Number(numerator) / Number(denominator) : null,
        // numerator / denominator > thresholdBp / 10000, in integers
        breached: denominator > 0n && numerator * 10_000n > BigInt(thresholdBp) * denominator,
      };
    });
  }
}

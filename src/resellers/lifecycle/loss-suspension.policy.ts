import type { ResellersConfig } from '../../config/app-config';
import type { Scorecard } from '../scorecard/scorecard.service';

/**
 * Whether a reseller's record calls for automatic suspension (ECONOMY.md "Resellers"): disputes lost ≥
 * RESELLER_SUSPEND_LOST_DISPUTES, or a loss rate (lost disputes / orders) above
 * RESELLER_SUSPEND_LOSS_RATE_PERCENT, in the scorecard window. The reason, or null.
 */
export function lossSuspensionReason(card: Scorecard, config: ResellersConfig): string | null {
  if (card.disputesLost >= config.suspendLostDisputes) return `${card.disputesLost} disputes lost in ${card.windowDays} days`;
  if (card.lossRate !== null && card.lossRate * 100 > config.suspendLossRatePercent) {
    return `${card.disputesLost} of ${card.orders} orders lost in disputes in ${card.windowDays} days`;
  }
  return null;
}

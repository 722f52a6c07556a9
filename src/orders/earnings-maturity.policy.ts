import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { addDays } from '../common/time';
import { AppConfig } from '../config/app-config';
import { FirstSalesService } from './first-sales.service';

/**
 * When a creator's CREDIT share of a sale matures, leaving `earnings_pending` for `earnings` (ECONOMY.md
 * "Earnings hold"): EARNINGS_HOLD_DAYS after the sale, or NEW_CREATOR_HOLD_DAYS while the creator's
 * first sale is less than NEW_CREATOR_PERIOD_DAYS old (a creator with no sale yet makes it with this
 * one). PROMO sales pay DEV_TOKENs, which never wait.
 */
@Injectable()
export class EarningsMaturityPolicy {
  constructor(
    private readonly config: AppConfig,
    private readonly firstSales: FirstSalesService,
  ) {}

  /** The maturity date of each creator's share of sales made `now`; records first sales in `em`'s transaction. */
  async maturityDates(em: EntityManager, creatorIds: string[], now: Date): Promise<Map<string, Date>> {
    const firstSales = await this.firstSales.record(em, creatorIds, now);
    return new Map(creatorIds.map((c) => [c, this.maturityDate(firstSales.get(c) ?? now, now)]));
  }

  /** The maturity date of a share of a sale made `now` by a creator whose first sale was at `firstSaleAt`. */
  maturityDate(firstSaleAt: Date, now: Date): Date {
    const e = this.config.economy;
    const isNewCreator = now < addDays(firstSaleAt, e.newCreatorPeriodDays);
    return addDays(now, isNewCreator ? e.newCreatorHoldDays : e.earningsHoldDays);
  }
}

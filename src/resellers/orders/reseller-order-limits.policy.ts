import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AppError } from '../../common/errors';
import { addHours } from '../../common/time';
import { AppConfig } from '../../config/app-config';
import { LedgerService } from '../../ledger/ledger.service';
import { lockedBalance } from '../bond/locked-balance';
import { ResellerOrdersRepository } from './reseller-orders.repository';
import { bondCovered, standingOf } from '../reseller-standing.policy';
import type { Reseller } from '../resellers.repository';
import { ResellersErrors } from '../resellers.errors';

/**
 * Whether a reseller may take this order now (ECONOMY.md "Resellers"), checked under the reseller's
 * row lock and the buyer's lock, in this order: the reseller's standing (active, re-vetting not
 * overdue), its bond, the per-order minimum and maximum, its 24-hour total, and the buyer's unpaid
 * orders. Probation lowers the maximum and the 24-hour total. The 24-hour total counts orders opened in
 * the last 24 hours except those that ended without delivering anything (cancelled, expired, refused),
 * so a buyer opening and abandoning orders cannot use a reseller's day up. For a batch of openings
 * (no buyer twice), decided in order: each one within the limits counts towards its reseller's 24-hour
 * total for the ones after it; the bond and the day's total are read once per reseller.
 */
@Injectable()
export class ResellerOrderLimitsPolicy {
  constructor(
    private readonly config: AppConfig,
    private readonly ledger: LedgerService,
    private readonly orders: ResellerOrdersRepository,
  ) {}

  /** Per opening, its refusal (or undefined: within the limits). */
  async refusals(
    em: EntityManager,
    openings: { reseller: Reseller; buyerId: string; amount: bigint }[],
    now: Date,
  ): Promise<(AppError | undefined)[]> {
    const days = new Map<string, { bond: bigint; today: bigint }>();
    const refusals: (AppError | undefined)[] = [];
    for (const { reseller, buyerId, amount } of openings) {
      let day = days.get(reseller.userId);
      if (!day) {
        day = {
          bond: await lockedBalance(this.ledger, em, reseller.userId, 'bond'),
          today: await this.orders.openedSince(em, reseller.userId, addHours(now, -24)),
        };
        days.set(reseller.userId, day);
      }
      const refused = await this.refusal(em, reseller, day, buyerId, amount, now);
      if (!refused) day.today += amount;
      refusals.push(refused);
    }
    return refusals;
  }

  private async refusal(
    em: EntityManager,
    reseller: Reseller,
    { bond, today }: { bond: bigint; today: bigint },
    buyerId: string,
    amount: bigint,
    now: Date,
  ): Promise<AppError | undefined> {
    const c = this.config.resellers;
    const standing = standingOf(reseller, now, c);
    if (!standing.mayTakeOrders) return ResellersErrors.notTakingOrders(standing.reason);
    if (!bondCovered(bond, c)) {
      return ResellersErrors.notTakingOrders('bond_missing', { bond: Number(bond), required: c.bondCredits });
    }
    if (amount < BigInt(c.orderMinCredits)) return ResellersErrors.orderBelowMin(c.orderMinCredits);
    if (amount > standing.orderMax) return ResellersErrors.orderAboveMax(standing.orderMax, standing.probation);
    if (today + amount > standing.dailyMax)
      return ResellersErrors.dailyLimit(standing.dailyMax, standing.dailyMax - today, standing.probation);
    if ((await this.orders.unpaidCountOfBuyer(em, buyerId)) >= c.buyerOpenOrdersMax)
      return ResellersErrors.buyerOpenOrders(c.buyerOpenOrdersMax);
    return undefined;
  }
}

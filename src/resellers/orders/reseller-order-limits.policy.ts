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
 * so a buyer opening and abandoning orders cannot use a reseller's day up. `inBatch`: what orders of
 * this reseller accepted before this one in the same batch transaction (not in the table yet) amount to.
 */
@Injectable()
export class ResellerOrderLimitsPolicy {
  constructor(
    private readonly config: AppConfig,
    private readonly ledger: LedgerService,
    private readonly orders: ResellerOrdersRepository,
  ) {}

  /** The refusal of this opening, if any. */
  async refusal(
    em: EntityManager,
    reseller: Reseller,
    buyerId: string,
    amount: bigint,
    now: Date,
    inBatch = 0n,
  ): Promise<AppError | undefined> {
    const c = this.config.resellers;
    const standing = standingOf(reseller, now, c);
    if (!standing.mayTakeOrders) return ResellersErrors.notTakingOrders(standing.reason);
    const bond = await lockedBalance(this.ledger, em, reseller.userId, 'bond');
    if (!bondCovered(bond, c)) {
      return ResellersErrors.notTakingOrders('bond_missing', { bond: Number(bond), required: c.bondCredits });
    }
    if (amount < BigInt(c.orderMinCredits)) return ResellersErrors.orderBelowMin(c.orderMinCredits);
    if (amount > standing.orderMax) return ResellersErrors.orderAboveMax(standing.orderMax, standing.probation);
    const today = (await this.orders.openedSince(em, reseller.userId, addHours(now, -24))) + inBatch;
    if (today + amount > standing.dailyMax)
      return ResellersErrors.dailyLimit(standing.dailyMax, standing.dailyMax - today, standing.probation);
    if ((await this.orders.unpaidCountOfBuyer(em, buyerId)) >= c.buyerOpenOrdersMax)
      return ResellersErrors.buyerOpenOrders(c.buyerOpenOrdersMax);
    return undefined;
  }
}

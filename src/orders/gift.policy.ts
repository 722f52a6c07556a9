import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { addDays, addHours } from '../common/time';
import { AppConfig } from '../config/app-config';
import { IdentityService } from '../identity/identity.service';
import { LedgerService, userAccount } from '../ledger/ledger.service';
import { CreditTransfersRepository } from './credit-transfers.repository';
import { OrdersErrors } from './orders.errors';

const CAP_WINDOW_DAYS = 30;

/**
 * The rules of gifting credits (ECONOMY.md "Gifting credits"): a verified email; at least
 * CREDIT_GIFT_MIN and at most CREDIT_GIFT_MAX per gift; at most CREDIT_GIFT_CAP_30D in any 30 days;
 * and credits bought within GIFT_PURCHASED_CREDITS_DELAY_HOURS stay in the wallet. Only wallet CREDIT
 * is gifted (the service debits nothing else).
 */
@Injectable()
export class GiftPolicy {
  constructor(
    private readonly config: AppConfig,
    private readonly identity: IdentityService,
    private readonly transfers: CreditTransfersRepository,
    private readonly ledger: LedgerService,
  ) {}

  /** Before the gift's transaction (committed state, a connection of its own): the email, then the per-gift limits. */
  async assertMayGift(senderId: string, amount: bigint): Promise<void> {
    const e = this.config.economy;
    if (!(await this.identity.isEmailVerified(undefined, senderId))) throw OrdersErrors.emailNotVerified();
    if (amount < BigInt(e.creditGiftMin)) throw OrdersErrors.giftBelowMin(e.creditGiftMin);
    if (amount > BigInt(e.creditGiftMax)) throw OrdersErrors.giftAboveMax(e.creditGiftMax);
  }

  /**
   * In the gift's transaction: the 30-day cap, counting every transfer not rejected. The sender's
   * transfers are serialized from here to the commit, so the sum stays exact.
   */
  async assertWithinCap(em: EntityManager, senderId: string, amount: bigint, now: Date): Promise<void> {
    await this.transfers.lockSender(em, senderId);
    const sent = await this.transfers.sentSince(em, senderId, addDays(now, -CAP_WINDOW_DAYS));
    const cap = BigInt(this.config.economy.creditGiftCap30d);
    if (sent + amount > cap) throw OrdersErrors.giftCapReached(cap, cap - sent);
  }

  /**
   * In the gift's transaction, once the wallet is locked (`wallet`: what it holds, as locked): it covers
   * the gift, and what it keeps covers every credit bought within the delay. Read after the lock, the
   * purchases include every mint the wallet's balance includes.
   */
  async assertGiftable(em: EntityManager, senderId: string, amount: bigint, wallet: bigint, now: Date): Promise<void> {
    if (wallet < amount) throw OrdersErrors.walletShort(wallet);
    const hours = this.config.economy.giftPurchasedCreditsDelayHours;
    // No delay holds nothing back; counted anyway, a mint committed after `now` was read would be "recent".
    if (hours === 0) return;
    // Credits bought are the wallet's `mint` credits (clawbacks not netted out: that can only make the rule stricter).
    const recent = await this.ledger.creditedSince(em, userAccount(senderId, 'CREDIT', 'wallet'), 'mint', addHours(now, -hours));
    if (wallet - amount < recent) throw OrdersErrors.recentlyBought(hours, wallet > recent ? wallet - recent : 0n);
  }
}

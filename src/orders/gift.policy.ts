import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AppError } from '../common/errors';
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
   * In the gifts' transaction: what each sender has gifted within the 30-day window, counting every
   * transfer not rejected. The senders' transfers are serialized from here to the commit, so the sums
   * stay exact.
   */
  async sentInWindow(em: EntityManager, senderIds: string[], now: Date): Promise<Map<string, bigint>> {
    await this.transfers.lockSenders(em, senderIds);
    return this.transfers.sentSince(em, senderIds, addDays(now, -CAP_WINDOW_DAYS));
  }

  /** The 30-day cap, given what the sender has gifted in the window (`sentInWindow`). */
  capRefusal(sent: bigint, amount: bigint): AppError | undefined {
    const cap = BigInt(this.config.economy.creditGiftCap30d);
    return sent + amount > cap ? OrdersErrors.giftCapReached(cap, cap - sent) : undefined;
  }

  /**
   * In the gifts' transaction, once the senders' wallets are locked: the credits each bought within the
   * delay (in order). Read after the locks, they include every mint the wallets' balances include.
   */
  async recentlyBought(em: EntityManager, senderIds: string[], now: Date): Promise<bigint[]> {
    const hours = this.config.economy.giftPurchasedCreditsDelayHours;
    // No delay holds nothing back; counted anyway, a mint committed after `now` was read would be "recent".
    if (hours === 0) return senderIds.map(() => 0n);
    // Credits bought are the wallet's `mint` credits (clawbacks not netted out: that can only make the rule stricter).
    return this.ledger.creditedSince(
      em,
      senderIds.map((id) => userAccount(id, 'CREDIT', 'wallet')),
      'mint',
      addHours(now, -hours),
    );
  }

  /**
   * The wallet (what it holds, as locked) covers the gift, and what it keeps covers the credits bought
   * within the delay (`recentlyBought`).
   */
  giftRefusal(amount: bigint, wallet: bigint, recent: bigint): AppError | undefined {
    if (wallet < amount) return OrdersErrors.walletShort(wallet);
    const hours = this.config.economy.giftPurchasedCreditsDelayHours;
    if (wallet - amount < recent) return OrdersErrors.recentlyBought(hours, wallet > recent ? wallet - recent : 0n);
    return undefined;
  }
}

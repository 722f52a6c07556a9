import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { SpendingPolicy } from '../account-guard/spending.policy';
import { Clock } from '../common/clock.service';
import { AppError, notFound } from '../common/errors';
import { amountToJson } from '../common/money';
import { AppConfig } from '../config/app-config';
import { queryRows } from '../database/sql';
import { TransactionRunner } from '../database/transaction-runner';
import { IdentityService } from '../identity/identity.service';
import { LedgerService, Posting, userAccount } from '../ledger/ledger.service';
import { CreateCreditTransferDto } from './dto/orders.dto';
import { RecentPurchases } from './recent-purchases';

export interface CreditTransferView {
  id: string;
  status: 'completed' | 'held_for_review' | 'rejected';
  fromUserId: string;
  toUserId: string;
  amount: number;
  note: string | null;
  createdAt: string;
}

interface TransferRow {
  id: string;
  from_user_id: string;
  to_user_id: string;
  amount: string;
  note: string | null;
  status: CreditTransferView['status'];
  created_at: Date;
}

const COLUMNS = 'id, from_user_id, to_user_id, amount, note, status, created_at';
const HOUR_MS = 3_600_000;

const limitExceeded = (detail: string, extra: Record<string, unknown>) => new AppError('LIMIT_EXCEEDED', detail, extra);

/**
 * Gifts of credits between users (ECONOMY.md "Gifting credits"): wallet CREDIT only, a verified email,
 * per-transfer and 30-day limits, never credits bought in the last 24 h, and nothing while the account
 * guard blocks value leaving the account.
 */
@Injectable()
export class CreditTransfersService {
  constructor(
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly ledger: LedgerService,
    private readonly spending: SpendingPolicy,
    private readonly identity: IdentityService,
    private readonly recentPurchases: RecentPurchases,
  ) {}

  async transfer(senderId: string, dto: CreateCreditTransferDto, idempotencyKey: string): Promise<CreditTransferView> {
    if (dto.toUserId === senderId) {
      throw new AppError('VALIDATION_FAILED', 'Credits cannot be gifted to yourself', {}, [
        { field: 'toUserId', message: 'must not be yourself' },
      ]);
    }
    const amount = BigInt(dto.amount);
    const e = this.config.economy;
    // Checks on committed state first, each on a connection of its own (never while holding one in a transaction).
    if (!(await this.identity.userExists(undefined, dto.toUserId))) throw notFound('Recipient');
    await this.spending.assertMayMoveValue(senderId, 'credit_transfer');
    if (!(await this.identity.isEmailVerified(undefined, senderId))) {
      throw new AppError('FORBIDDEN', 'Verify your email address before gifting credits', { reason: 'EMAIL_NOT_VERIFIED' });
    }
    if (amount < BigInt(e.creditGiftMin))
      throw limitExceeded(`A gift is at least ${e.creditGiftMin} credits`, { limit: 'min', min: e.creditGiftMin });
    if (amount > BigInt(e.creditGiftMax))
      throw limitExceeded(`A gift is at most ${e.creditGiftMax} credits`, { limit: 'max', max: e.creditGiftMax });
    const now = this.clock.now();
    const since = new Date(now.getTime() - e.giftPurchasedCreditsDelayHours * HOUR_MS);
    const recentlyBought = await this.recentPurchases.creditsBoughtSince(senderId, since);

    return this.tx.run(async (em) => {
      const replay = await queryRows<TransferRow>(
        em,
        `SELECT ${COLUMNS} FROM credit_transfers WHERE from_user_id = $1 AND idempotency_key = $2`,
        [senderId, idempotencyKey],
      );
      if (replay.length) return toView(replay[0]);
      await this.assertWithin30DayCap(em, senderId, amount, now);
      const debit = await this.debitGiftable(em, senderId, amount, recentlyBought);
      const id = randomUUID();
      await this.ledger.post(em, {
        kind: 'gift',
        reference: `credit_transfer:${senderId}:${idempotencyKey}`,
        postings: [debit, { account: userAccount(dto.toUserId, 'CREDIT', 'wallet'), amount }],
        metadata: { transferId: id, fromUserId: senderId, toUserId: dto.toUserId },
      });
      const [row] = await queryRows<TransferRow>(
        em,
        `INSERT INTO credit_transfers (id, from_user_id, to_user_id, amount, note, status, idempotency_key, created_at)
         VALUES ($1, $2, $3, $4, $5, 'completed', $6, $7) RETURNING ${COLUMNS}`,
        [id, senderId, dto.toUserId, amount.toString(), dto.note ?? null, idempotencyKey, now],
      );
      return toView(row);
    });
  }

  /** The 30-day cap counts every transfer not rejected; one sender's transfers are serialized to keep the sum exact. */
  private async assertWithin30DayCap(em: EntityManager, senderId: string, amount: bigint, now: Date): Promise<void> {
    await em.query(`SELECT pg_advisory_xact_lock(hashtextextended('credit_transfers:' || $1, 0))`, [senderId]);
    const [{ sent }] = await queryRows<{ sent: string }>(
      em,
      `SELECT coalesce(sum(amount), 0)::text AS sent FROM credit_transfers
       WHERE from_user_id = $1 AND created_at > $2 AND status <> 'rejected'`,
      [senderId, new Date(now.getTime() - 30 * 24 * HOUR_MS)],
    );
    const cap = BigInt(this.config.economy.creditGiftCap30d);
    if (BigInt(sent) + amount > cap) {
      throw limitExceeded(`At most ${cap} credits can be gifted in 30 days`, {
        limit: '30d',
        cap: Number(cap),
        remaining: amountToJson(cap - BigInt(sent)),
      });
    }
  }

  /**
   * The sender's leg, once the wallet (locked from here to the commit) is known to hold `amount` beyond
   * every credit bought in the last 24 h: what stays in the wallet after a gift must cover those.
   */
  private async debitGiftable(em: EntityManager, senderId: string, amount: bigint, recent: bigint): Promise<Posting> {
    // Asking for amount + recent with allowShortfall locks the wallet and tells how far short of that it is.
    const probe = await this.ledger.debitInOrder(em, {
      userId: senderId,
      asset: 'CREDIT',
      from: ['wallet'],
      amount: amount + recent,
      allowShortfall: true,
    });
    const wallet = amount + recent - probe.shortfall;
    if (wallet < amount) throw new AppError('INSUFFICIENT_FUNDS', 'Not enough credits in the wallet', { available: amountToJson(wallet) });
    if (wallet - amount < recent) {
      const giftable = wallet > recent ? wallet - recent : 0n;
      throw limitExceeded('Credits bought in the last 24 hours cannot be gifted yet', {
        limit: 'recent_purchase',
        giftable: amountToJson(giftable),
      });
    }
    return { account: userAccount(senderId, 'CREDIT', 'wallet'), amount: -amount };
  }
}

function toView(r: TransferRow): CreditTransferView {
  return {
    id: r.id,
    status: r.status,
    fromUserId: r.from_user_id,
    toUserId: r.to_user_id,
    amount: amountToJson(r.amount),
    note: r.note,
    createdAt: r.created_at.toISOString(),
  };
}

import { Injectable, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { SpendingPolicy } from '../account-guard/spending.policy';
import { Clock } from '../common/clock.service';
import { IdempotencyService, IdempotentReplay, IdempotentRequest } from '../common/idempotency/idempotency.service';
import { addDays } from '../common/time';
import { AppConfig } from '../config/app-config';
import { FraudErrors } from '../fraud/fraud.errors';
import { FraudService } from '../fraud/fraud.service';
import { ReviewsService } from '../fraud/reviews.service';
import { IdentityService } from '../identity/identity.service';
import { EntryInput, LedgerService, LockedFunds, userAccount } from '../ledger/ledger.service';
import { creditTransferMachine } from './credit-transfer-state';
import { CreditTransferRow, CreditTransfersRepository, CreditTransferView, toCreditTransferView } from './credit-transfers.repository';
import { CreateCreditTransferDto } from './dto/orders.dto';
import { GiftPolicy } from './gift.policy';
import { OrdersErrors } from './orders.errors';
import { RequestOrigin } from './request-origin';
import { releaseHolds } from './review-holds';

/**
 * Gifts of credits between users (ECONOMY.md "Gifting credits"; the rules in GiftPolicy): wallet CREDIT
 * only, never to a reseller, and nothing while the account guard blocks value leaving the account. The fraud rules judge
 * each gift after the limits and before the funds: blocked, nothing moves (403 FRAUD_BLOCKED);
 * reviewed, the amount is held on the sender's wallet (a ledger hold to the recipient's wallet) and
 * the transfer is `held_for_review` until an admin decides. Approval voids the hold and posts the
 * very entry an allowed gift posts (kind, reference and legs): capturing the hold would post the same
 * legs but under the hold's own reference, so a transfer would have two kinds of ledger trace.
 */
@Injectable()
export class CreditTransfersService implements OnModuleInit {
  constructor(
    private readonly idempotency: IdempotencyService,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly ledger: LedgerService,
    private readonly spending: SpendingPolicy,
    private readonly identity: IdentityService,
    private readonly fraud: FraudService,
    private readonly reviews: ReviewsService,
    private readonly gifts: GiftPolicy,
    private readonly transfers: CreditTransfersRepository,
  ) {}

  onModuleInit(): void {
    this.reviews.handle('credit_transfer', {
      approve: (em, review) => this.approve(em, review.subjectId),
      reject: (em, review) => this.reject(em, review.subjectId),
    });
  }

  async transfer(
    senderId: string,
    dto: CreateCreditTransferDto,
    request: IdempotentRequest,
    client: RequestOrigin,
  ): Promise<CreditTransferView | IdempotentReplay> {
    if (dto.toUserId === senderId) throw OrdersErrors.creditsToSelf();
    const amount = BigInt(dto.amount);
    // Checks on committed state first, each on a connection of its own (never while holding one in a transaction).
    const recipient = await this.identity.findUser(dto.toUserId);
    if (!recipient) throw OrdersErrors.creditRecipientNotFound();
    if (recipient.roles.includes('reseller')) throw OrdersErrors.recipientIsReseller();
    await this.spending.assertMayMoveValue(senderId, 'credit_transfer');
    await this.gifts.assertMayGift(senderId, amount);
    const now = this.clock.now();

    return this.idempotency.run(request, async (em) => {
      await this.gifts.assertWithinCap(em, senderId, amount, now);
      const id = randomUUID();
      const { outcome } = await this.fraud.evaluate(em, {
        type: 'credit_transfer',
        userId: senderId,
        subjectId: id,
        amount,
        recipientId: dto.toUserId,
        ip: client.ip,
        sessionId: client.sessionId,
      });
      if (outcome === 'BLOCK') throw FraudErrors.blocked();
      const wallet = await this.lockWallet(em, senderId, amount);
      await this.gifts.assertGiftable(em, senderId, amount, wallet.funds, now);
      const transfer = { id, fromUserId: senderId, toUserId: dto.toUserId, amount, idempotencyKey: request.key };
      let holdId: string | null = null;
      if (outcome === 'REVIEW') {
        const { kind, postings, metadata } = giftEntry(transfer);
        ({ holdId } = await this.ledger.hold(em, {
          reference: IdempotencyService.reference('credit_transfer_review_hold', request),
          kind,
          from: postings[0].account,
          to: postings[1].account,
          amount,
          expiresAt: addDays(now, this.config.fraud.reviewHoldDays),
          metadata,
        }));
      } else await this.ledger.post(em, giftEntry(transfer), wallet.locked);
      const row = await this.transfers.insert(em, {
        ...transfer,
        note: dto.note ?? null,
        createdAt: now,
        status: holdId ? 'held_for_review' : 'completed',
        holdId,
      });
      return toCreditTransferView(row);
    });
  }

  /** An approved review: the hold released and the gift posted as an allowed one is, in the admin's transaction. */
  async approve(em: EntityManager, transferId: string): Promise<void> {
    const t = await this.lock(em, transferId);
    const status = creditTransferMachine.next(t.status, 'approve');
    await releaseHolds(this.ledger, em, [t.hold_id!]);
    await this.ledger.post(
      em,
      giftEntry({
        id: t.id,
        fromUserId: t.from_user_id,
        toUserId: t.to_user_id,
        amount: BigInt(t.amount),
        idempotencyKey: t.idempotency_key,
      }),
    );
    await this.transfers.markStatus(em, t.id, status);
  }

  /** A rejected review: the hold released, nothing else moves. */
  async reject(em: EntityManager, transferId: string): Promise<void> {
    const t = await this.lock(em, transferId);
    const status = creditTransferMachine.next(t.status, 'reject');
    await releaseHolds(this.ledger, em, [t.hold_id!]);
    await this.transfers.markStatus(em, t.id, status);
  }

  private async lock(em: EntityManager, transferId: string): Promise<CreditTransferRow> {
    const t = await this.transfers.findForUpdate(em, transferId);
    if (!t) throw OrdersErrors.transferNotFound();
    return t;
  }

  /**
   * Locks the sender's CREDIT wallet until the commit; answers what it holds (spendable) and the
   * funds as locked, which the gift's post then uses instead of locking and reading the wallet again.
   */
  private async lockWallet(em: EntityManager, senderId: string, amount: bigint): Promise<{ funds: bigint; locked: LockedFunds }> {
    const { locked } = await this.ledger.debitInOrder(em, {
      userId: senderId,
      asset: 'CREDIT',
      from: ['wallet'],
      amount,
      allowShortfall: true,
    });
    // `locked` holds the one account debited: the wallet (none when it does not exist yet).
    return { funds: [...locked.values()].reduce((sum, funds) => sum + funds, 0n), locked };
  }
}

interface Gift {
  id: string;
  fromUserId: string;
  toUserId: string;
  amount: bigint;
  idempotencyKey: string;
}

/** The one ledger entry of a gift, under the request's reference (`credit_transfer:<sender>:<key>`). */
function giftEntry(g: Gift): EntryInput {
  return {
    kind: 'gift',
    reference: IdempotencyService.reference('credit_transfer', {
      userId: g.fromUserId,
      key: g.idempotencyKey,
      requestHash: '',
      responseStatus: 0,
    }),
    postings: [
      { account: userAccount(g.fromUserId, 'CREDIT', 'wallet'), amount: -g.amount },
      { account: userAccount(g.toUserId, 'CREDIT', 'wallet'), amount: g.amount },
    ],
    metadata: { transferId: g.id, fromUserId: g.fromUserId, toUserId: g.toUserId },
  };
}

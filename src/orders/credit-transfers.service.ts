import { BeforeApplicationShutdown, Injectable, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { SpendingPolicy } from '../account-guard/spending.policy';
import { Clock } from '../common/clock.service';
import { IdempotencyService, IdempotentReplay, IdempotentRequest } from '../common/idempotency/idempotency.service';
import { addDays } from '../common/time';
import { AppError } from '../common/errors';
import { Outcome } from '../common/outcome';
import { AppConfig } from '../config/app-config';
import { BatchResult, GroupCommit, GroupCommitLimits } from '../database/group-commit';
import { TransactionRunner } from '../database/transaction-runner';
import { FraudService } from '../fraud/fraud.service';
import { ReviewsService } from '../fraud/reviews.service';
import { IdentityService } from '../identity/identity.service';
import { EntryInput, LedgerService, userAccount } from '../ledger/ledger.service';
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
export class CreditTransfersService implements OnModuleInit, BeforeApplicationShutdown {
  private readonly batches: GroupCommit<TransferInput, CreditTransferView | IdempotentReplay>;

  constructor(
    tx: TransactionRunner,
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
  ) {
    // One sender's transfers go to different batches, one after the other.
    this.batches = new GroupCommit(
      tx,
      () => TRANSFER_BATCHES,
      (em, inputs) => this.transferMany(em, inputs),
      (t) => [t.senderId],
    );
  }

  onModuleInit(): void {
    this.reviews.handle('credit_transfer', {
      approve: (em, review) => this.approve(em, review.subjectId),
      reject: (em, review) => this.reject(em, review.subjectId),
    });
  }

  /** On shutdown, transfers already queued or in a batch are decided before the connections close. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.batches.drained();
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
    return this.batches.submit({ senderId, toUserId: dto.toUserId, amount, note: dto.note ?? null, request, client });
  }

  /**
   * Decides a batch of transfers (no sender twice: the batcher keeps a sender's next transfer for a
   * later batch), each on its own and in the order of the single-transfer rules: the idempotency keys
   * (replays and keys in use answered at once), the 30-day caps, the fraud rules (one evaluation), then
   * the funds under the senders' wallet locks; the gifts are posted, the transfers and the keys of the
   * completed ones recorded in the same transaction. A transfer refused after the fraud rules judged
   * it has a decision (a review, maybe) written in this transaction: the batch fails and is split
   * until that transfer stands alone, so its refusal takes them back as a transaction of its own would.
   */
  private async transferMany(em: EntityManager, inputs: TransferInput[]): Promise<BatchResult<CreditTransferView | IdempotentReplay>> {
    const claimed = await this.idempotency.claimBatch<CreditTransferView>(
      em,
      inputs.map((t) => t.request),
    );
    const outcomes = claimed.outcomes;
    let open = claimed.open;
    const now = this.clock.now();
    if (!open.length) return { outcomes };
    const sent = await this.gifts.sentInWindow(
      em,
      open.map((i) => inputs[i].senderId),
      now,
    );
    open = open.filter((i) => {
      const refused = this.gifts.capRefusal(sent.get(inputs[i].senderId) ?? 0n, inputs[i].amount);
      if (refused) outcomes[i] = { error: refused };
      return !refused;
    });
    const gifts = await this.screen(em, inputs, open, outcomes);
    if (gifts.length) await this.give(em, gifts, now, outcomes);
    const done = open.flatMap((i) => {
      const o = outcomes[i];
      return o && 'ok' in o ? [{ request: inputs[i].request, body: o.ok }] : [];
    });
    await this.idempotency.complete(em, done);
    return { outcomes };
  }

  /** The fraud rules on the transfers within their caps (one evaluation): a blocked one is refused; answers the others. */
  private async screen(
    em: EntityManager,
    inputs: TransferInput[],
    open: number[],
    outcomes: Outcome<CreditTransferView | IdempotentReplay>[],
  ): Promise<PendingGift[]> {
    const pending = open.map((index) => ({ index, input: inputs[index], id: randomUUID(), review: false }));
    const screened = await this.fraud.screenBatch(
      em,
      pending,
      (g) => ({
        type: 'credit_transfer',
        userId: g.input.senderId,
        subjectId: g.id,
        amount: g.input.amount,
        recipientId: g.input.toUserId,
        ip: g.input.client.ip,
        sessionId: g.input.client.sessionId,
      }),
      outcomes,
    );
    return screened.map(({ unit, review }) => Object.assign(unit, { review }));
  }

  /**
   * The senders' wallets locked and read (one statement), the funds checked, then the gifts posted with
   * the funds as locked (one statement) and the reviewed ones held; the transfers recorded.
   */
  private async give(
    em: EntityManager,
    gifts: PendingGift[],
    now: Date,
    outcomes: Outcome<CreditTransferView | IdempotentReplay>[],
  ): Promise<void> {
    const { debits, locked } = await this.ledger.debitsInOrder(
      em,
      gifts.map((g) => ({ userId: g.input.senderId, asset: 'CREDIT', from: ['wallet'], amount: g.input.amount, allowShortfall: true })),
    );
    const recent = await this.gifts.recentlyBought(
      em,
      gifts.map((g) => g.input.senderId),
      now,
    );
    gifts.forEach((g, i) => {
      const debit = debits[i];
      const wallet = debit instanceof AppError ? 0n : debit.available;
      const refused = this.gifts.giftRefusal(g.input.amount, wallet, recent[i]);
      if (refused) throw refused;
    });
    const transfers = gifts.map((g) => ({
      id: g.id,
      fromUserId: g.input.senderId,
      toUserId: g.input.toUserId,
      amount: g.input.amount,
      idempotencyKey: g.input.request.key,
    }));
    const allowed = gifts.flatMap((g, i) => (g.review ? [] : [giftEntry(transfers[i])]));
    // Funds were decided above under the same locks, so a refusal here means a bug: fail the batch.
    for (const o of await this.ledger.postMany(em, allowed, locked)) if ('error' in o) throw o.error;
    const holds = new Map<PendingGift, string>();
    for (const [i, g] of gifts.entries()) {
      if (!g.review) continue;
      const { kind, postings, metadata } = giftEntry(transfers[i]);
      const { holdId } = await this.ledger.hold(em, {
        reference: IdempotencyService.reference('credit_transfer_review_hold', g.input.request),
        kind,
        from: postings[0].account,
        to: postings[1].account,
        amount: g.input.amount,
        expiresAt: addDays(now, this.config.fraud.reviewHoldDays),
        metadata,
      });
      holds.set(g, holdId);
    }
    const rows = await this.transfers.insertMany(
      em,
      gifts.map((g, i) => ({
        ...transfers[i],
        note: g.input.note,
        createdAt: now,
        status: holds.has(g) ? 'held_for_review' : 'completed',
        holdId: holds.get(g) ?? null,
      })),
    );
    gifts.forEach((g, i) => (outcomes[g.index] = { ok: toCreditTransferView(rows[i]) }));
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
}

/** A transfer as the route hands it to the batcher. */
interface TransferInput {
  senderId: string;
  toUserId: string;
  amount: bigint;
  note: string | null;
  request: IdempotentRequest;
  client: RequestOrigin;
}

/** A transfer within its cap that the fraud rules did not block: allowed, or to be held for review. */
interface PendingGift {
  index: number;
  input: TransferInput;
  id: string;
  review: boolean;
}

/** Credit transfers decided together: up to a batch of concurrent ones share a transaction and its commit. */
export const TRANSFER_BATCHES: GroupCommitLimits = { max: 64, concurrency: 3, parallelMin: 8, genericPlans: true };

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

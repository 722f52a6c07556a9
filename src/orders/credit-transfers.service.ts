import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { SpendingPolicy } from '../account-guard/spending.policy';
import { Clock } from '../common/clock.service';
import { IdempotencyService, IdempotentReplay, IdempotentRequest } from '../common/idempotency/idempotency.service';
import { IdentityService } from '../identity/identity.service';
import { LedgerService, userAccount } from '../ledger/ledger.service';
import { CreditTransfersRepository, CreditTransferView, toCreditTransferView } from './credit-transfers.repository';
import { CreateCreditTransferDto } from './dto/orders.dto';
import { GiftPolicy } from './gift.policy';
import { OrdersErrors } from './orders.errors';

/**
 * Gifts of credits between users (ECONOMY.md "Gifting credits"; the rules in GiftPolicy): wallet CREDIT
 * only, and nothing while the account guard blocks value leaving the account.
 */
@Injectable()
export class CreditTransfersService {
  constructor(
    private readonly idempotency: IdempotencyService,
    private readonly clock: Clock,
    private readonly ledger: LedgerService,
    private readonly spending: SpendingPolicy,
    private readonly identity: IdentityService,
    private readonly gifts: GiftPolicy,
    private readonly transfers: CreditTransfersRepository,
  ) {}

  async transfer(
    senderId: string,
    dto: CreateCreditTransferDto,
    request: IdempotentRequest,
  ): Promise<CreditTransferView | IdempotentReplay> {
    if (dto.toUserId === senderId) throw OrdersErrors.creditsToSelf();
    const amount = BigInt(dto.amount);
    // Checks on committed state first, each on a connection of its own (never while holding one in a transaction).
    if (!(await this.identity.userExists(undefined, dto.toUserId))) throw OrdersErrors.creditRecipientNotFound();
    await this.spending.assertMayMoveValue(senderId, 'credit_transfer');
    await this.gifts.assertMayGift(senderId, amount);
    const now = this.clock.now();

    return this.idempotency.run(request, async (em) => {
      await this.gifts.assertWithinCap(em, senderId, amount, now);
      await this.gifts.assertGiftable(em, senderId, amount, await this.lockWallet(em, senderId, amount), now);
      const id = randomUUID();
      await this.ledger.post(em, {
        kind: 'gift',
        reference: IdempotencyService.reference('credit_transfer', request),
        postings: [
          { account: userAccount(senderId, 'CREDIT', 'wallet'), amount: -amount },
          { account: userAccount(dto.toUserId, 'CREDIT', 'wallet'), amount },
        ],
        metadata: { transferId: id, fromUserId: senderId, toUserId: dto.toUserId },
      });
      const row = await this.transfers.insertCompleted(em, {
        id,
        fromUserId: senderId,
        toUserId: dto.toUserId,
        amount,
        note: dto.note ?? null,
        idempotencyKey: request.key,
        createdAt: now,
      });
      return toCreditTransferView(row);
    });
  }

  /** Locks the sender's CREDIT wallet until the commit; answers what it holds (spendable), as locked. */
  private async lockWallet(em: EntityManager, senderId: string, amount: bigint): Promise<bigint> {
    const probe = await this.ledger.debitInOrder(em, { userId: senderId, asset: 'CREDIT', from: ['wallet'], amount, allowShortfall: true });
    // `locked` holds the one account debited: the wallet (none when it does not exist yet).
    return [...probe.locked.values()].reduce((sum, funds) => sum + funds, 0n);
  }
}

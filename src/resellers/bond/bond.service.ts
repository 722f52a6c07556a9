import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AccountGuardService } from '../../account-guard/account-guard.service';
import { Clock } from '../../common/clock.service';
import { IdempotencyService, IdempotentReplay, IdempotentRequest } from '../../common/idempotency/idempotency.service';
import { amountToJson } from '../../common/money';
import { addHours } from '../../common/time';
import { AppConfig } from '../../config/app-config';
import { TransactionRunner } from '../../database/transaction-runner';
import { LedgerService, userAccount } from '../../ledger/ledger.service';
import { bondReleaseRefusal, BondReleaseRefusal } from './bond-release.policy';
import { BondStatusView, BondView } from '../dto/bond.dto';
import { lockedBalance } from './locked-balance';
import { ResellerOrdersRepository } from '../orders/reseller-orders.repository';
import { Reseller, ResellersRepository } from '../resellers.repository';
import { ResellersErrors } from '../resellers.errors';

/**
 * A reseller's bond (docs/resellers.md "Bond"): locked into `bond` from the wallet, then earnings, up
 * to RESELLER_BOND_CREDITS; lost disputes are paid from it; it goes back to the wallet only under
 * bond-release.policy.ts and when the account guard lets value leave the account. Both moves take the
 * reseller's row lock, as opening an order does, so an order and a release never overlap.
 */
@Injectable()
export class BondService {
  constructor(
    private readonly tx: TransactionRunner,
    private readonly idempotency: IdempotencyService,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly ledger: LedgerService,
    private readonly guard: AccountGuardService,
    private readonly orders: ResellerOrdersRepository,
    private readonly resellers: ResellersRepository,
  ) {}

  /** POST /reseller/bond: tops the bond up to what is required (nothing moves when it is there already). */
  async lock(userId: string, request: IdempotentRequest): Promise<BondView | IdempotentReplay> {
    return this.idempotency.run(request, async (em) => {
      const reseller = await this.lockReseller(em, userId);
      if (reseller.status === 'revoked') throw ResellersErrors.bondNotLockable(reseller.status);
      const required = BigInt(this.config.resellers.bondCredits);
      const bond = await lockedBalance(this.ledger, em, userId, 'bond');
      const missing = required - bond;
      if (missing <= 0n) return this.view(bond, 0n);
      const debit = await this.ledger.debitInOrder(em, { userId, asset: 'CREDIT', from: ['wallet', 'earnings'], amount: missing });
      await this.ledger.post(
        em,
        {
          kind: 'reseller_bond_lock',
          reference: IdempotencyService.reference('reseller_bond_lock', request),
          postings: [...debit.postings, { account: userAccount(userId, 'CREDIT', 'bond'), amount: missing }],
          metadata: { resellerId: userId },
        },
        debit.locked,
      );
      return this.view(required, missing);
    });
  }

  /** POST /reseller/bond/release: the whole bond back to the wallet, or 423 (account guard) / 409 naming why not. */
  async release(userId: string, request: IdempotentRequest): Promise<BondView | IdempotentReplay> {
    if (!(await this.resellers.find(this.tx.manager, userId))) throw ResellersErrors.notAReseller();
    await this.guard.assertMayMoveValue(userId, 'bond_release');
    return this.idempotency.run(request, async (em) => {
      const reseller = await this.lockReseller(em, userId);
      const bond = await lockedBalance(this.ledger, em, userId, 'bond');
      const refusal = await this.refusal(em, reseller, bond);
      if (refusal) {
        const { reason, ...extra } = refusal;
        throw ResellersErrors.bondNotReleasable(reason, extra);
      }
      await this.ledger.post(em, {
        kind: 'reseller_bond_release',
        reference: IdempotencyService.reference('reseller_bond_release', request),
        postings: [
          { account: userAccount(userId, 'CREDIT', 'bond'), amount: -bond },
          { account: userAccount(userId, 'CREDIT', 'wallet'), amount: bond },
        ],
        metadata: { resellerId: userId },
      });
      return this.view(0n, bond);
    });
  }

  /** GET /reseller/bond. */
  async status(userId: string): Promise<BondStatusView> {
    const reseller = await this.resellers.find(this.tx.manager, userId);
    if (!reseller) throw ResellersErrors.notAReseller();
    const { posted: bond } = await this.ledger.balance(userAccount(userId, 'CREDIT', 'bond'));
    const refusal = await this.refusal(this.tx.manager, reseller, bond);
    return { bond: amountToJson(bond), required: this.config.resellers.bondCredits, releaseRefusal: refusal?.reason ?? null };
  }

  private async refusal(em: EntityManager, reseller: Reseller, bond: bigint): Promise<BondReleaseRefusal | null> {
    const now = this.clock.now();
    const c = this.config.resellers;
    const binding = await this.orders.binding(em, reseller.userId, addHours(now, -c.disputeWindowHours));
    return bondReleaseRefusal({ bond, ...binding, lastOrderAt: reseller.lastOrderAt, now, quietDays: c.bondReleaseQuietDays });
  }

  private async lockReseller(em: EntityManager, userId: string): Promise<Reseller> {
    const reseller = await this.resellers.lock(em, userId);
    if (!reseller) throw ResellersErrors.notAReseller();
    return reseller;
  }

  private view(bond: bigint, moved: bigint): BondView {
    return { bond: amountToJson(bond), required: this.config.resellers.bondCredits, moved: amountToJson(moved) };
  }
}

import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Clock } from '../common/clock.service';
import { AppError } from '../common/errors';
import { Outcome } from '../common/outcome';
import { Page, PageQuery } from '../common/pagination';
import { prepareEntry } from './entry-input';
import { LedgerBalancesService } from './ledger-balances.service';
import { LedgerCompactorService } from './ledger-compactor.service';
import { Debit, DebitInOrderArgs, LedgerDebitsService } from './ledger-debits.service';
import { LedgerHoldsService } from './ledger-holds.service';
import { LedgerSealerService } from './ledger-sealer.service';
import { LedgerSupplyService } from './ledger-supply.service';
import { LedgerVerifierService } from './ledger-verifier.service';
import {
  AccountBalance,
  AccountRef,
  Asset,
  DebtFlows,
  EntryInput,
  HoldInput,
  LedgerLine,
  LockedFunds,
  PostedEntry,
  SupplyReport,
  VerifyReport,
} from './ledger.types';
import { PostingEngineService } from './posting-engine.service';
import { LedgerAccountsRepository } from './ledger-accounts.repository';

export * from './ledger.types';
export type { Debit, DebitInOrderArgs } from './ledger-debits.service';

/** A write needs the caller's transaction: value only ever moves inside the transaction of its cause. */
function inTransaction(em: EntityManager, operation: string): void {
  if (!em?.queryRunner?.isTransactionActive) throw new Error(`${operation} needs the caller transaction`);
}

/**
 * The only way value moves. Every write takes the EntityManager of the caller's transaction first and
 * joins it (without one it throws); reads and the periodic work use connections of their own.
 */
@Injectable()
export class LedgerService {
  constructor(
    private readonly clock: Clock,
    private readonly engine: PostingEngineService,
    private readonly debits: LedgerDebitsService,
    private readonly holds: LedgerHoldsService,
    private readonly balances: LedgerBalancesService,
    private readonly sealer: LedgerSealerService,
    private readonly verifier: LedgerVerifierService,
    private readonly compactor: LedgerCompactorService,
    private readonly supply: LedgerSupplyService,
    private readonly accounts: LedgerAccountsRepository,
  ) {}

  /**
   * Writes a balanced entry, all or nothing. The same reference with the same content returns the
   * first entry (`replayed`); with other content it is a CONFLICT. Unbalanced or malformed input is
   * VALIDATION_FAILED and an overdraft INSUFFICIENT_FUNDS; in both cases nothing is written and the
   * caller's transaction stays usable. `locked`: what a `debitInOrder` just before, in the same
   * transaction, found (saves locking and reading those accounts again).
   */
  async post(em: EntityManager, entry: EntryInput, locked?: LockedFunds): Promise<PostedEntry> {
    inTransaction(em, 'post');
    const [outcome] = await this.engine.apply(em, [prepareEntry(entry, this.clock.now())], { locked });
    if ('error' in outcome) throw outcome.error;
    return outcome.ok;
  }

  /**
   * Several entries in the caller's transaction, each decided on its own like `post` (in order: an
   * entry spends what those before it left); refused ones are answered with their error and nothing of
   * theirs is written. `locked`: as for `post`, from a `debitsInOrder` just before.
   */
  async postMany(em: EntityManager, entries: EntryInput[], locked?: LockedFunds): Promise<Outcome<PostedEntry>[]> {
    inTransaction(em, 'postMany');
    const now = this.clock.now();
    return this.engine.apply(
      em,
      entries.map((e) => prepareEntry(e, now)),
      { locked },
    );
  }

  /**
   * Drains `amount` from the user's accounts in the given order (e.g. ['wallet','earnings']), locking
   * them; returns the debit legs (negative postings). Throws INSUFFICIENT_FUNDS unless allowShortfall,
   * in which case it returns what it could and `shortfall`.
   */
  async debitInOrder(em: EntityManager, args: DebitInOrderArgs): Promise<Debit> {
    inTransaction(em, 'debitInOrder');
    return this.debits.debitInOrder(em, args);
  }

  /** `debitInOrder` for several debits in one go; one that cannot be covered is answered with its error. */
  async debitsInOrder(
    em: EntityManager,
    list: DebitInOrderArgs[],
  ): Promise<{ debits: (Omit<Debit, 'locked'> | AppError)[]; locked: LockedFunds }> {
    inTransaction(em, 'debitsInOrder');
    return this.debits.debitsInOrder(em, list);
  }

  /** Reserves funds on `from` until captured, voided or expired (idempotent by reference). */
  async hold(em: EntityManager, args: HoldInput): Promise<{ holdId: string }> {
    inTransaction(em, 'hold');
    return this.holds.hold(em, args);
  }

  /** Whole or partial; the rest is released. Capturing again with the same amount replays. */
  async capture(em: EntityManager, holdId: string, amount?: bigint): Promise<PostedEntry> {
    inTransaction(em, 'capture');
    return this.holds.capture(em, holdId, amount);
  }

  /** Releases a pending hold; a hold already captured, voided or expired is INVALID_STATE. */
  async void(em: EntityManager, holdId: string): Promise<void> {
    inTransaction(em, 'void');
    return this.holds.void(em, holdId);
  }

  /** Runs the hold expiry now (it also runs as a periodic job). */
  expireHolds(now: Date = this.clock.now()): Promise<number> {
    return this.holds.expire(now);
  }

  balance(account: AccountRef, asOf?: Date): Promise<AccountBalance> {
    return this.balances.balance(account, asOf);
  }

  /** What a user owes in `asset` after a clawback could not recover everything: their `debt` account, shown positive. */
  async owed(userId: string, asset: Asset = 'CREDIT'): Promise<bigint> {
    return (await this.balances.owedMany(undefined, [{ userId, asset }]))[0];
  }

  /** `owed` for several users and assets at once (in order), in `em`'s transaction (or, without one, on a connection of its own). */
  owedMany(em: EntityManager | undefined, debts: { userId: string; asset: Asset }[]): Promise<bigint[]> {
    return this.balances.owedMany(em, debts);
  }

  /**
   * Locks the user's debt movements (every asset) until `em`'s transaction ends, then reads what is owed
   * in `asset`: whoever repays debt calls this first, so two grants never repay the same debt twice.
   */
  async lockAndReadOwed(em: EntityManager, userId: string, asset: Asset): Promise<bigint> {
    inTransaction(em, 'lockAndReadOwed');
    await this.accounts.lockDebt(em, userId);
    return (await this.balances.owedMany(em, [{ userId, asset }]))[0];
  }

  /**
   * What entries of `kind` created since `since` credited each account (in order), read in the caller's
   * transaction (so after the locks it holds: e.g. the credits bought recently, once the wallets are locked).
   */
  creditedSince(em: EntityManager, accounts: AccountRef[], kind: string, since: Date): Promise<bigint[]> {
    return this.balances.creditedSince(em, accounts, kind, since);
  }

  userBalances(userId: string): Promise<Record<Asset, Record<string, bigint>>> {
    return this.balances.userBalances(userId);
  }

  history(userId: string, page: PageQuery): Promise<Page<LedgerLine>> {
    return this.balances.history(userId, page);
  }

  accountHistory(account: AccountRef, page: PageQuery): Promise<Page<LedgerLine>> {
    return this.balances.accountHistory(account, page);
  }

  /** Chains every finished entry into the hash chain (it also runs as a periodic job). */
  sealPending(): Promise<number> {
    return this.sealer.sealPending();
  }

  /** Folds pending credits into balance rows (it also runs as a periodic job). */
  foldPendingCredits(): Promise<number> {
    return this.compactor.foldPendingCredits();
  }

  verify(): Promise<VerifyReport> {
    return this.verifier.verify();
  }

  /**
   * Minted, burned and outstanding per asset from the postings of entries created at or before `at`
   * (business clock; without it: every committed entry, checked against the balance rows in the same snapshot).
   */
  supplyAt(at?: Date): Promise<SupplyReport> {
    return this.supply.supplyAt(at);
  }

  /** CREDIT debt created and repaid per interval of `stepSeconds` from `from` to `to`, with what was owed at `from`. */
  debtFlows(from: Date, to: Date, stepSeconds: number): Promise<DebtFlows> {
    return this.supply.debtFlows(from, to, stepSeconds);
  }
}

import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Clock } from '../common/clock.service';
import { AppError } from '../common/errors';
import { Page, PageQuery } from '../common/pagination';
import { AppConfig } from '../config/app-config';
import { TransactionRunner } from '../database/transaction-runner';
import { prepareEntry } from './entry-input';
import { LedgerBalances } from './ledger-balances';
import { LedgerCompactor } from './ledger-compactor';
import { Debit, DebitInOrderArgs, LedgerDebits } from './ledger-debits';
import { LedgerHolds } from './ledger-holds';
import { LedgerSealer } from './ledger-sealer';
import { LedgerVerifier } from './ledger-verifier';
import { LedgerBatcher } from './ledger.batcher';
import {
  AccountBalance,
  AccountRef,
  Asset,
  EntryInput,
  HoldInput,
  LedgerLine,
  LockedFunds,
  PostedEntry,
  VerifyReport,
} from './ledger.types';
import { PostingEngine } from './posting.engine';

export * from './ledger.types';
export type { Debit, DebitInOrderArgs } from './ledger-debits';

/**
 * The only way value moves. Every method takes the caller's EntityManager first (and then joins its
 * transaction) or undefined (and then uses a transaction of its own; for `post` that is a batch
 * shared with concurrent callers).
 */
@Injectable()
export class LedgerService {
  constructor(
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly engine: PostingEngine,
    private readonly batcher: LedgerBatcher,
    private readonly debits: LedgerDebits,
    private readonly holds: LedgerHolds,
    private readonly balances: LedgerBalances,
    private readonly sealer: LedgerSealer,
    private readonly verifier: LedgerVerifier,
    private readonly compactor: LedgerCompactor,
  ) {}

  /**
   * Writes a balanced entry, all or nothing. The same reference with the same content returns the
   * first entry (`replayed`); with other content it is a CONFLICT. Unbalanced or malformed input is
   * VALIDATION_FAILED and an overdraft INSUFFICIENT_FUNDS; in both cases nothing is written and the
   * caller's transaction stays usable. `locked`: what a `debitInOrder` just before, in the same
   * transaction, found (saves locking and reading those accounts again).
   */
  async post(em: EntityManager | undefined, entry: EntryInput, locked?: LockedFunds): Promise<PostedEntry> {
    const prepared = prepareEntry(entry, this.clock.now());
    if (!em && this.config.ledger.batching) return this.batcher.submit(prepared);
    const inCaller = em?.queryRunner?.isTransactionActive === true;
    const { outcomes } = await this.tx.within(em, (m) => this.engine.apply(m, [prepared], { locked: inCaller ? locked : undefined }));
    const outcome = outcomes[0];
    if ('error' in outcome) throw outcome.error;
    return outcome.ok;
  }

  /**
   * Several entries in the caller's transaction, each decided on its own like `post` (in order: an
   * entry spends what those before it left); refused ones are answered with their error and nothing of
   * theirs is written. `locked`: as for `post`, from a `debitsInOrder` just before.
   */
  async postMany(em: EntityManager, entries: EntryInput[], locked?: LockedFunds): Promise<({ ok: PostedEntry } | { error: AppError })[]> {
    if (!em?.queryRunner?.isTransactionActive) throw new Error('postMany needs the caller transaction');
    const now = this.clock.now();
    const { outcomes } = await this.engine.apply(
      em,
      entries.map((e) => prepareEntry(e, now)),
      { locked },
    );
    return outcomes;
  }

  /**
   * Drains `amount` from the user's accounts in the given order (e.g. ['wallet','earnings']), locking
   * them; returns the debit legs (negative postings). Throws INSUFFICIENT_FUNDS unless allowShortfall,
   * in which case it returns what it could and `shortfall`.
   */
  debitInOrder(em: EntityManager, args: DebitInOrderArgs): Promise<Debit> {
    return this.debits.debitInOrder(em, args);
  }

  /** `debitInOrder` for several debits in one go; one that cannot be covered is answered with its error. */
  debitsInOrder(
    em: EntityManager,
    list: DebitInOrderArgs[],
  ): Promise<{ debits: (Omit<Debit, 'locked'> | AppError)[]; locked: LockedFunds }> {
    return this.debits.debitsInOrder(em, list);
  }

  hold(em: EntityManager | undefined, args: HoldInput): Promise<{ holdId: string }> {
    return this.holds.hold(em, args);
  }

  /** Whole or partial; the rest is released. Capturing again with the same amount replays. */
  capture(em: EntityManager | undefined, holdId: string, amount?: bigint): Promise<PostedEntry> {
    return this.holds.capture(em, holdId, amount);
  }

  /** Releases a pending hold (no-op on one already voided or expired). */
  void(em: EntityManager | undefined, holdId: string): Promise<void> {
    return this.holds.void(em, holdId);
  }

  /** Runs the hold expiry now (it also runs as a periodic job). */
  expireHolds(now: Date = this.clock.now()): Promise<number> {
    return this.holds.expire(now);
  }

  balance(account: AccountRef, asOf?: Date): Promise<AccountBalance> {
    return this.balances.balance(account, asOf);
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
}

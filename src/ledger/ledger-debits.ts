import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { checkAmount, resolveRef } from './entry-input';
import { LedgerAccounts } from './ledger-accounts';
import { LedgerErrors } from './ledger.errors';
import { Asset, LockedFunds, Posting, USER_ACCOUNT_NAMES, UserAccountName, userAccount } from './ledger.types';
import { PostingEngine } from './posting.engine';

export interface Debit {
  /** The debit legs (negative postings). */
  postings: Posting[];
  shortfall: bigint;
  /** For `post` in the same transaction. */
  locked: LockedFunds;
}

export interface DebitInOrderArgs {
  userId: string;
  asset: Asset;
  from: UserAccountName[];
  amount: bigint;
  allowShortfall?: boolean;
}

/** Plans a debit drawn from a user's accounts in a given order, holding their balance rows locked. */
@Injectable()
export class LedgerDebits {
  constructor(
    private readonly accounts: LedgerAccounts,
    private readonly engine: PostingEngine,
  ) {}

  /**
   * Locks the accounts' balance rows (in key order) in the caller's transaction and drains `amount`
   * from them in the order given; the locks last until the caller commits, so the entry it then posts
   * with these legs cannot find the funds gone.
   */
  async debitInOrder(em: EntityManager, args: DebitInOrderArgs): Promise<Debit> {
    if (!em?.queryRunner?.isTransactionActive) throw new Error('debitInOrder needs the caller transaction');
    const amount = checkAmount(args.amount, 'amount', 'positive');
    const from = args.from as unknown;
    if (!Array.isArray(from) || from.length === 0 || new Set(from).size !== from.length) {
      throw LedgerErrors.invalid('must list distinct accounts', 'from');
    }
    const refs = from.map((name: UserAccountName, i) => {
      if (!USER_ACCOUNT_NAMES.includes(name) || name === 'debt') throw LedgerErrors.unknownAccount(`from[${i}]`);
      return resolveRef(userAccount(args.userId, args.asset, name), `from[${i}]`);
    });
    const known = await this.accounts.find(em, refs);
    const funds = await this.engine.lockAndRead(
      em,
      [...known.values()].map((a) => a.id),
    );

    const locked = new Map<string, bigint>();
    for (const [key, info] of known) locked.set(key, funds.get(info.id) ?? 0n);
    const postings: Posting[] = [];
    let remaining = amount;
    for (const ref of refs) {
      const info = known.get(ref.key);
      const available = info ? (funds.get(info.id) ?? 0n) : 0n;
      const take = available < remaining ? available : remaining;
      if (take <= 0n) continue;
      postings.push({ account: ref.ref, amount: -take });
      remaining -= take;
    }
    if (remaining > 0n && !args.allowShortfall) throw LedgerErrors.insufficientFunds(refs[0].name, refs[0].asset);
    return { postings, shortfall: remaining, locked };
  }
}

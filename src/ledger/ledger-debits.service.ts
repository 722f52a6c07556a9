import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AppError } from '../common/errors';
import { checkAmount, resolveRef } from './entry-input';
import { LedgerAccountsService } from './ledger-accounts.service';
import { LedgerErrors } from './ledger.errors';
import { Asset, LockedFunds, Posting, USER_ACCOUNT_NAMES, UserAccountName, userAccount } from './ledger.types';
import { PostingEngineService } from './posting-engine.service';

export interface Debit {
  /** The debit legs (negative postings). */
  postings: Posting[];
  shortfall: bigint;
  /** What the accounts drawn from held, as locked, before this debit (after the debits before it in a list). */
  available: bigint;
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
export class LedgerDebitsService {
  constructor(
    private readonly accounts: LedgerAccountsService,
    private readonly engine: PostingEngineService,
  ) {}

  /**
   * Locks the accounts' balance rows (in key order) in the caller's transaction and drains `amount`
   * from them in the order given; the locks last until the caller commits, so the entry it then posts
   * with these legs cannot find the funds gone.
   */
  async debitInOrder(em: EntityManager, args: DebitInOrderArgs): Promise<Debit> {
    const { debits, locked } = await this.debitsInOrder(em, [args]);
    const debit = debits[0];
    if (debit instanceof AppError) throw debit;
    return { ...debit, locked };
  }

  /**
   * `debitInOrder` for several debits at once (one lock statement, one read): each is planned against
   * what the debits before it left, and one that cannot be covered is answered with its error (unless
   * it allows a shortfall) without taking anything. `locked`: every account's funds as locked and read.
   */
  async debitsInOrder(
    em: EntityManager,
    list: DebitInOrderArgs[],
  ): Promise<{ debits: (Omit<Debit, 'locked'> | AppError)[]; locked: LockedFunds }> {
    const plans = list.map((args) => this.refsOf(args));
    const refs = plans.flatMap((p) => p.refs);
    const known = await this.accounts.find(em, refs);
    const { funds } = await this.engine.lockFindAndReadFunds(em, 'entries', [], [...new Set([...known.values()].map((a) => a.id))]);
    const available = new Map<string, bigint>();
    for (const [key, info] of known) available.set(key, funds.get(info.id) ?? 0n);
    const locked = new Map(available);

    const debits = plans.map(({ refs, amount }, i) => {
      const taken: [string, bigint][] = [];
      const postings: Posting[] = [];
      let remaining = amount;
      const before = refs.reduce((sum, ref) => sum + (available.get(ref.key) ?? 0n), 0n);
      for (const ref of refs) {
        const left = available.get(ref.key) ?? 0n;
        const take = left < remaining ? left : remaining;
        if (take <= 0n) continue;
        taken.push([ref.key, take]);
        postings.push({ account: ref.ref, amount: -take });
        remaining -= take;
      }
      if (remaining > 0n && !list[i].allowShortfall) return LedgerErrors.insufficientFunds(refs[0].name, refs[0].asset);
      for (const [key, take] of taken) available.set(key, available.get(key)! - take);
      return { postings, shortfall: remaining, available: before };
    });
    return { debits, locked };
  }

  private refsOf(args: DebitInOrderArgs) {
    const amount = checkAmount(args.amount, 'amount', 'positive');
    const from = args.from as unknown;
    if (!Array.isArray(from) || from.length === 0 || new Set(from).size !== from.length) {
      throw LedgerErrors.invalid('must list distinct accounts', 'from');
    }
    const refs = from.map((name: UserAccountName, i) => {
      if (!USER_ACCOUNT_NAMES.includes(name) || name === 'debt') throw LedgerErrors.unknownAccount(`from[${i}]`);
      return resolveRef(userAccount(args.userId, args.asset, name), `from[${i}]`);
    });
    return { refs, amount };
  }
}

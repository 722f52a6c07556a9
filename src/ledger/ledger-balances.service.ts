import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { isUuid } from '../common/ids';
import { decodeCursor, Page, PageQuery, pageLimit, toPage } from '../common/pagination';
import { resolveRef } from './entry-input';
import { LedgerAccountsService } from './ledger-accounts.service';
import { LedgerBalancesRepository, toLedgerLine } from './ledger-balances.repository';
import { LedgerErrors } from './ledger.errors';
import { AccountBalance, AccountRef, Asset, ASSETS, LedgerLine } from './ledger.types';

/** The accounts GET /me/balances always lists, per asset (others appear when they exist). */
const LISTED: Record<Asset, string[]> = {
  CREDIT: ['wallet', 'earnings', 'earnings_pending', 'reseller_stock', 'bond', 'held', 'debt'],
  PROMO: ['wallet', 'held', 'debt'],
  DEV_TOKEN: ['wallet', 'held'],
};

/**
 * Reads: balances (available = posted - held), point-in-time balances and account histories with the
 * balance after each posting. Each read is one statement, so it sees one consistent snapshot.
 */
@Injectable()
export class LedgerBalancesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly accounts: LedgerAccountsService,
    private readonly repo: LedgerBalancesRepository,
  ) {}

  /** Now, or as of a business-clock time (entries recorded at or before it; holds open at that time). */
  async balance(account: AccountRef, asOf?: Date): Promise<AccountBalance> {
    const ref = resolveRef(account, 'account');
    if (asOf !== undefined && (!(asOf instanceof Date) || Number.isNaN(asOf.getTime())))
      throw LedgerErrors.invalid('must be a date', 'asOf');
    const info = (await this.accounts.find(undefined, [ref])).get(ref.key);
    if (!info) return { posted: 0n, held: 0n, available: 0n };
    const row =
      asOf === undefined
        ? await this.repo.postedAndHeld(this.dataSource, info.id)
        : await this.repo.postedAndHeldAsOf(this.dataSource, info.id, asOf);
    const posted = BigInt(row.posted);
    const held = BigInt(row.held);
    return { posted, held, available: posted - held };
  }

  /**
   * What each user owes in each asset (in order): the negative balance of their `debt` account, shown
   * positive; one statement, in `em`'s transaction or, without one, on a connection of its own.
   */
  async owedMany(em: EntityManager | undefined, debts: { userId: string; asset: Asset }[]): Promise<bigint[]> {
    if (!debts.length) return [];
    const rows = await this.repo.debts(
      em ?? this.dataSource,
      debts.map((d) => d.userId),
      debts.map((d) => d.asset),
    );
    const posted = new Map(rows.map((r) => [`${r.owner_id}/${r.asset}`, BigInt(r.posted)]));
    return debts.map((d) => {
      const p = posted.get(`${d.userId}/${d.asset}`) ?? 0n;
      return p < 0n ? -p : 0n;
    });
  }

  /** In the caller's transaction, per account (in order): what entries of `kind` since `since` credited it (0 when it has none). */
  async creditedSince(em: EntityManager, accounts: AccountRef[], kind: string, since: Date): Promise<bigint[]> {
    const refs = accounts.map((a, i) => resolveRef(a, `accounts[${i}]`));
    const known = await this.accounts.find(em, refs);
    const ids = [...new Set([...known.values()].map((a) => a.id))];
    const credited = ids.length ? await this.repo.creditedSince(em, ids, kind, since) : new Map<string, bigint>();
    return refs.map((r) => {
      const info = known.get(r.key);
      return (info && credited.get(info.id)) ?? 0n;
    });
  }

  /**
   * The shape of GET /me/balances: posted balance per account, `held` (reserved by pending holds,
   * part of those balances) and `debt` as the positive amount owed.
   */
  async userBalances(userId: string): Promise<Record<Asset, Record<string, bigint>>> {
    if (!isUuid(userId)) throw LedgerErrors.invalid('must be a UUID', 'userId');
    const out = Object.fromEntries(ASSETS.map((a) => [a, Object.fromEntries(LISTED[a].map((n) => [n, 0n]))])) as Record<
      Asset,
      Record<string, bigint>
    >;
    for (const r of await this.repo.ofOwner(this.dataSource, userId.toLowerCase())) {
      const balance = BigInt(r.balance);
      out[r.asset][r.name] = r.name === 'debt' ? -balance : balance;
      out[r.asset].held += BigInt(r.held);
    }
    return out;
  }

  /** Every posting on the user's accounts, newest first. */
  async history(userId: string, page: PageQuery): Promise<Page<LedgerLine>> {
    if (!isUuid(userId)) throw LedgerErrors.invalid('must be a UUID', 'userId');
    return this.lines(await this.accounts.idsOfOwner(userId.toLowerCase()), page);
  }

  /** One account's postings, newest first. */
  async accountHistory(account: AccountRef, page: PageQuery): Promise<Page<LedgerLine>> {
    const ref = resolveRef(account, 'account');
    const info = (await this.accounts.find(undefined, [ref])).get(ref.key);
    return this.lines(info ? [info.id] : [], page);
  }

  private async lines(accountIds: string[], page: PageQuery): Promise<Page<LedgerLine>> {
    const limit = pageLimit(page);
    const before = decodeCursor(page.cursor, 1)?.[0];
    if (before !== undefined && !(typeof before === 'string' && /^\d{1,19}$/.test(before)))
      throw LedgerErrors.invalid('is not valid', 'cursor');
    if (!accountIds.length) return { items: [], nextCursor: null };
    const rows = await this.repo.lines(this.dataSource, accountIds, (before as string | undefined) ?? null, limit + 1);
    return toPage(rows, limit, toLedgerLine, (r) => [r.seq]);
  }
}

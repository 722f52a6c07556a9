import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { Clock } from '../../src/common/clock.service';
import { AppError } from '../../src/common/errors';
import { TransactionRunner } from '../../src/database/transaction-runner';
import { addHours } from '../../src/common/time';
import { Asset, HoldInput, LedgerService, systemAccount, userAccount, UserAccountName } from '../../src/ledger/ledger.service';
import { TestApp, useTestApp } from './test-app';

export const newUserId = (): string => randomUUID();

/** What a ledger suite works with: the application and the services it posts through. */
export interface LedgerApp {
  t: TestApp;
  ledger: LedgerService;
  tx: TransactionRunner;
  clock: Clock;
}

/**
 * Boots the application (with `env`) for the enclosing describe block and closes it afterwards;
 * `use` receives the handles once the application is up, e.g. `useLedgerApp((s) => ({ t, ledger } = s))`.
 */
export function useLedgerApp(use: (s: LedgerApp) => void, env: Record<string, string> = {}): void {
  useTestApp((t) => use({ t, ledger: t.app.get(LedgerService), tx: t.app.get(TransactionRunner), clock: t.app.get(Clock) }), env);
}

/** Mints `amount` of `asset` from issuance into the user's account (default: CREDIT wallet), in a transaction of its own. */
export async function mint(t: TestApp, userId: string, amount: bigint, asset: Asset = 'CREDIT', name: UserAccountName = 'wallet') {
  const ledger = t.app.get(LedgerService);
  return t.app.get(TransactionRunner).run((em) =>
    ledger.post(em, {
      kind: 'mint',
      reference: `test-mint:${randomUUID()}`,
      postings: [
        { account: systemAccount('issuance', asset), amount: -amount },
        { account: userAccount(userId, asset, name), amount },
      ],
    }),
  );
}

/** A hold of `amount` CREDIT from the user's wallet into escrow (expiring in an hour unless told). */
export function escrowHold(userId: string, amount: bigint, expiresAt = addHours(new Date(), 1)): HoldInput {
  return {
    reference: `hold:${randomUUID()}`,
    kind: 'test',
    from: userAccount(userId, 'CREDIT', 'wallet'),
    to: systemAccount('escrow', 'CREDIT'),
    amount,
    expiresAt,
  };
}

export function transfer(
  fromUser: string,
  toUser: string,
  amount: bigint,
  reference = `test-transfer:${randomUUID()}`,
  asset: Asset = 'CREDIT',
) {
  return {
    kind: 'transfer',
    reference,
    postings: [
      { account: userAccount(fromUser, asset, 'wallet'), amount: -amount },
      { account: userAccount(toUser, asset, 'wallet'), amount },
    ],
  };
}

/** What a refused operation must not change: row counts of every ledger table and the balance totals. */
export async function ledgerFootprint(t: TestApp): Promise<Record<string, string>> {
  const [row] = await t.sql<Record<string, string>>(
    `SELECT (SELECT count(*) FROM ledger_accounts)::text AS accounts,
            (SELECT count(*) FROM ledger_balances)::text AS balance_rows,
            (SELECT count(*) FROM ledger_entries)::text AS entries,
            (SELECT count(*) FROM ledger_postings)::text AS postings,
            (SELECT count(*) FROM ledger_holds)::text AS holds,
            (SELECT count(*) FROM ledger_holds WHERE status = 'pending')::text AS pending_holds,
            (SELECT coalesce(sum(abs(balance)), 0) FROM ledger_balances)::text AS balance_volume,
            (SELECT coalesce(sum(held), 0) FROM ledger_balances)::text AS held`,
  );
  return row;
}

/** The AppError a promise rejects with (fails the test if it resolves or throws something else). */
export async function appError(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected the operation to be refused');
}

/** Runs statements on a connection of its own (for explicit transactions in raw SQL). */
export async function withClient<T>(t: TestApp, work: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: t.db.url });
  await c.connect();
  try {
    return await work(c);
  } finally {
    await c.end();
  }
}

/** The SQLSTATE (and constraint) a raw statement fails with. */
export async function sqlError(p: Promise<unknown>): Promise<{ code: string; constraint?: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { code?: string; constraint?: string };
    if (typeof e.code === 'string') return { code: e.code, constraint: e.constraint };
    throw err;
  }
  throw new Error('expected the statement to fail');
}

import { randomUUID } from 'node:crypto';
import { TransactionRunner } from '../../src/database/transaction-runner';
import { LedgerService, systemAccount, userAccount } from '../../src/ledger/ledger.service';
import { appError, escrowHold, mint, newUserId, useLedgerApp } from '../support/ledger-fixtures';
import { TestApp } from '../support/test-app';

describe("ledger: debitInOrder (a debit planned over a user's accounts, then posted)", () => {
  let t: TestApp, ledger: LedgerService, tx: TransactionRunner;
  const wallet = (userId: string) => ledger.balance(userAccount(userId, 'CREDIT', 'wallet'));

  useLedgerApp((s) => ({ t, ledger, tx } = s));

  it('drains the accounts in the order given, skipping what is reserved', async () => {
    const user = newUserId();
    await mint(t, user, 30n);
    await mint(t, user, 50n, 'CREDIT', 'earnings');
    await tx.run((em) => ledger.hold(em, escrowHold(user, 10n)));
    const plan = await tx.run(async (em) => {
      const debit = await ledger.debitInOrder(em, { userId: user, asset: 'CREDIT', from: ['wallet', 'earnings'], amount: 60n });
      await ledger.post(
        em,
        {
          kind: 'purchase',
          reference: `o:${randomUUID()}`,
          postings: [...debit.postings, { account: systemAccount('burn', 'CREDIT'), amount: 60n }],
        },
        debit.locked,
      );
      return debit;
    });
    expect(plan).toEqual({
      postings: [
        { account: userAccount(user, 'CREDIT', 'wallet'), amount: -20n },
        { account: userAccount(user, 'CREDIT', 'earnings'), amount: -40n },
      ],
      shortfall: 0n,
      available: 70n,
      locked: new Map([
        [`${user}/CREDIT/wallet`, 20n],
        [`${user}/CREDIT/earnings`, 50n],
      ]),
    });
    expect(await wallet(user)).toEqual({ posted: 10n, held: 10n, available: 0n });
  });

  it('lets post use the funds it locked: overdrafts and references are still decided as without', async () => {
    const user = newUserId();
    await mint(t, user, 30n);
    const reference = `o:${randomUUID()}`;
    const spend = (amount: bigint) => ({
      kind: 'purchase',
      reference,
      postings: [
        { account: userAccount(user, 'CREDIT', 'wallet'), amount: -amount },
        { account: systemAccount('burn', 'CREDIT'), amount },
      ],
    });
    const outcome = await tx.run(async (em) => {
      const debit = await ledger.debitInOrder(em, { userId: user, asset: 'CREDIT', from: ['wallet'], amount: 10n });
      const overdraft = await appError(ledger.post(em, spend(31n), debit.locked));
      const first = await ledger.post(em, spend(10n), debit.locked);
      const again = await ledger.post(em, spend(10n), debit.locked);
      const conflict = await appError(ledger.post(em, spend(5n), debit.locked));
      return { overdraft: overdraft.code, first: first.replayed, again: again.replayed, conflict: conflict.code };
    });
    expect(outcome).toEqual({ overdraft: 'INSUFFICIENT_FUNDS', first: false, again: true, conflict: 'CONFLICT' });
    expect(await wallet(user)).toEqual({ posted: 20n, held: 0n, available: 20n });
  });

  it('reports a shortfall when allowed, and refuses otherwise', async () => {
    const user = newUserId();
    await mint(t, user, 30n);
    const args = { userId: user, asset: 'CREDIT' as const, from: ['wallet' as const, 'earnings' as const], amount: 45n };
    expect((await appError(tx.run((em) => ledger.debitInOrder(em, args)))).code).toBe('INSUFFICIENT_FUNDS');
    const partial = await tx.run((em) => ledger.debitInOrder(em, { ...args, allowShortfall: true }));
    expect(partial).toEqual({
      postings: [{ account: userAccount(user, 'CREDIT', 'wallet'), amount: -30n }],
      shortfall: 15n,
      available: 30n,
      locked: new Map([[`${user}/CREDIT/wallet`, 30n]]),
    });
    for (const bad of [
      { ...args, amount: 0n },
      { ...args, amount: -5n },
      { ...args, from: [] },
      { ...args, from: ['wallet', 'wallet'] },
      { ...args, from: ['debt'] },
    ]) {
      expect((await appError(tx.run((em) => ledger.debitInOrder(em, bad as typeof args)))).code).toBe('VALIDATION_FAILED');
    }
  });
});

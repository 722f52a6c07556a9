import { randomUUID } from 'node:crypto';
import { TransactionRunner } from '../../src/database/transaction-runner';
import { AppError } from '../../src/common/errors';
import { EntryInput, LedgerService, systemAccount, userAccount } from '../../src/ledger/ledger.service';
import { PostingEngineService } from '../../src/ledger/posting-engine.service';
import { appError, escrowHold, ledgerFootprint, mint, newUserId, transfer, useLedgerApp, withClient } from '../support/ledger-fixtures';
import { TestApp } from '../support/test-app';

describe('ledger: posting entries', () => {
  let t: TestApp, ledger: LedgerService, tx: TransactionRunner;
  const wallet = (userId: string) => ledger.balance(userAccount(userId, 'CREDIT', 'wallet'));
  /** In a transaction of its own, as a route's would be. */
  const post = (entry: EntryInput) => tx.run((em) => ledger.post(em, entry));

  useLedgerApp((s) => ({ t, ledger, tx } = s));

  it('writes a multi-leg entry all at once, creating accounts on first use', async () => {
    const [buyer, creator] = [newUserId(), newUserId()];
    await mint(t, buyer, 1_000n);
    await mint(t, buyer, 300n, 'PROMO');
    const posted = await post({
      kind: 'purchase',
      reference: `order:${randomUUID()}`,
      postings: [
        { account: userAccount(buyer, 'CREDIT', 'wallet'), amount: -110n },
        { account: userAccount(creator, 'CREDIT', 'earnings_pending'), amount: 100n },
        { account: systemAccount('platform_revenue', 'CREDIT'), amount: 10n },
        { account: userAccount(buyer, 'PROMO', 'wallet'), amount: -50n },
        { account: systemAccount('burn', 'PROMO'), amount: 50n },
      ],
      metadata: { orderId: 'o-1', nested: { b: 1, a: [1, 2] } },
    });
    expect(posted).toEqual({ entryId: expect.any(String), replayed: false });
    expect((await wallet(buyer)).posted).toBe(890n);
    expect((await ledger.balance(userAccount(creator, 'CREDIT', 'earnings_pending'))).posted).toBe(100n);
    expect((await ledger.balance(userAccount(buyer, 'PROMO', 'wallet'))).posted).toBe(250n);
    const [entry] = await t.sql<{ kind: string; metadata: unknown }>('SELECT kind, metadata FROM ledger_entries WHERE id = $1', [
      posted.entryId,
    ]);
    expect(entry).toEqual({ kind: 'purchase', metadata: { orderId: 'o-1', nested: { b: 1, a: [1, 2] } } });
  });

  it('forgets accounts created by a transaction that rolled back (never caches what is not committed)', async () => {
    const user = newUserId();
    const grant = (amount: bigint) => ({
      kind: 'grant',
      reference: `grant:${randomUUID()}`,
      postings: [
        { account: systemAccount('issuance', 'PROMO'), amount: -amount },
        { account: userAccount(user, 'PROMO', 'wallet'), amount },
      ],
    });
    const rolledBack = tx.run(async (em) => {
      await ledger.post(em, grant(5n));
      await ledger.post(em, grant(6n));
      throw new Error('roll back');
    });
    await expect(rolledBack).rejects.toThrow('roll back');
    await post(grant(7n));
    await post(grant(8n));
    expect((await ledger.balance(userAccount(user, 'PROMO', 'wallet'))).posted).toBe(15n);
  });

  describe('idempotency', () => {
    it('returns the first entry for a replay of the same reference and content', async () => {
      const user = newUserId();
      await mint(t, user, 100n);
      const entry = transfer(user, newUserId(), 40n);
      const first = await post(entry);
      const again = await post({ ...entry, postings: [...entry.postings].reverse() });
      expect(again).toEqual({ entryId: first.entryId, replayed: true });
      expect((await wallet(user)).posted).toBe(60n);
    });

    it('refuses the same reference with different content (CONFLICT) and writes nothing', async () => {
      const user = newUserId();
      await mint(t, user, 100n);
      const entry = transfer(user, newUserId(), 40n);
      await post(entry);
      const before = await ledgerFootprint(t);
      for (const changed of [
        { ...entry, postings: transfer(user, newUserId(), 40n).postings },
        { ...entry, kind: 'gift' },
        { ...entry, metadata: { note: 'x' } },
        transfer(user, newUserId(), 41n, entry.reference),
      ]) {
        const err = await appError(post(changed));
        expect(err.code).toBe('CONFLICT');
        expect(err.extra.reason).toBe('LEDGER_REFERENCE_CONFLICT');
      }
      expect(await ledgerFootprint(t)).toEqual(before);
    });

    it('writes an entry once when the same reference arrives many times at once', async () => {
      const user = newUserId();
      await mint(t, user, 100n);
      const entry = transfer(user, newUserId(), 10n);
      const results = await Promise.all(Array.from({ length: 20 }, () => post(entry)));
      expect(new Set(results.map((r) => r.entryId)).size).toBe(1);
      expect(results.filter((r) => !r.replayed)).toHaveLength(1);
      expect((await wallet(user)).posted).toBe(90n);
    });
  });

  describe('bad input: a coded error and nothing written', () => {
    const alice = newUserId();
    const bob = newUserId();
    beforeAll(() => mint(t, alice, 1_000n));

    const leg = (account: unknown, amount: unknown) => ({ account, amount });
    const cases: [string, () => unknown, string][] = [
      ['a zero amount', () => transfer(alice, bob, 0n), 'VALIDATION_FAILED'],
      [
        'a non-integer amount',
        () => ({
          ...transfer(alice, bob, 1n),
          postings: [leg(userAccount(alice, 'CREDIT', 'wallet'), -1.5), leg(userAccount(bob, 'CREDIT', 'wallet'), 1.5)],
        }),
        'VALIDATION_FAILED',
      ],
      [
        'an amount given as text',
        () => ({
          ...transfer(alice, bob, 1n),
          postings: [leg(userAccount(alice, 'CREDIT', 'wallet'), '-5'), leg(userAccount(bob, 'CREDIT', 'wallet'), '5')],
        }),
        'VALIDATION_FAILED',
      ],
      ['an oversized amount', () => transfer(alice, bob, 2n ** 60n), 'VALIDATION_FAILED'],
      [
        'NaN',
        () => ({
          ...transfer(alice, bob, 1n),
          postings: [leg(userAccount(alice, 'CREDIT', 'wallet'), NaN), leg(userAccount(bob, 'CREDIT', 'wallet'), NaN)],
        }),
        'VALIDATION_FAILED',
      ],
      [
        'an unknown system account',
        () => ({
          ...transfer(alice, bob, 5n),
          postings: [leg({ system: 'vault', asset: 'CREDIT' }, -5n), leg(userAccount(bob, 'CREDIT', 'wallet'), 5n)],
        }),
        'VALIDATION_FAILED',
      ],
      [
        'an unknown account name',
        () => ({
          ...transfer(alice, bob, 5n),
          postings: [leg({ userId: alice, asset: 'CREDIT', name: 'savings' }, -5n), leg(userAccount(bob, 'CREDIT', 'wallet'), 5n)],
        }),
        'VALIDATION_FAILED',
      ],
      [
        'an unknown asset',
        () => ({
          ...transfer(alice, bob, 5n),
          postings: [leg({ userId: alice, asset: 'GOLD', name: 'wallet' }, -5n), leg({ userId: bob, asset: 'GOLD', name: 'wallet' }, 5n)],
        }),
        'VALIDATION_FAILED',
      ],
      [
        'an owner that is not a user id',
        () => ({
          ...transfer(alice, bob, 5n),
          postings: [leg(userAccount(alice, 'CREDIT', 'wallet'), -5n), leg({ userId: 'bob', asset: 'CREDIT', name: 'wallet' }, 5n)],
        }),
        'VALIDATION_FAILED',
      ],
      [
        'an account that is both user and system',
        () => ({
          ...transfer(alice, bob, 5n),
          postings: [
            leg(userAccount(alice, 'CREDIT', 'wallet'), -5n),
            leg({ userId: bob, system: 'burn', asset: 'CREDIT', name: 'wallet' }, 5n),
          ],
        }),
        'VALIDATION_FAILED',
      ],
      [
        'an entry that does not balance',
        () => ({
          ...transfer(alice, bob, 5n),
          postings: [leg(userAccount(alice, 'CREDIT', 'wallet'), -5n), leg(userAccount(bob, 'CREDIT', 'wallet'), 4n)],
        }),
        'VALIDATION_FAILED',
      ],
      [
        'a mixed-asset entry that balances only overall',
        () => ({
          ...transfer(alice, bob, 5n),
          postings: [leg(userAccount(alice, 'CREDIT', 'wallet'), -5n), leg(userAccount(bob, 'PROMO', 'wallet'), 5n)],
        }),
        'VALIDATION_FAILED',
      ],
      [
        'a single posting',
        () => ({ ...transfer(alice, bob, 5n), postings: [leg(userAccount(alice, 'CREDIT', 'wallet'), 0n)] }),
        'VALIDATION_FAILED',
      ],
      ['no reference', () => ({ ...transfer(alice, bob, 5n), reference: '' }), 'VALIDATION_FAILED'],
      ['metadata that is not an object', () => ({ ...transfer(alice, bob, 5n), metadata: 'note' }), 'VALIDATION_FAILED'],
      ['more than the account holds', () => transfer(alice, bob, 1_001n), 'INSUFFICIENT_FUNDS'],
      ['a debit from an account that does not exist', () => transfer(newUserId(), bob, 1n), 'INSUFFICIENT_FUNDS'],
    ];

    it.each(cases)('%s', async (_, entry, code) => {
      const before = await ledgerFootprint(t);
      expect((await appError(post(entry() as EntryInput))).code).toBe(code);
      expect(await ledgerFootprint(t)).toEqual(before);
    });

    it('leaves the caller transaction usable after a refusal', async () => {
      const receiver = newUserId();
      await tx.run(async (em) => {
        expect((await appError(ledger.post(em, transfer(alice, receiver, 5_000n)))).code).toBe('INSUFFICIENT_FUNDS');
        await ledger.post(em, transfer(alice, receiver, 5n));
      });
      expect((await wallet(receiver)).posted).toBe(5n);
    });
  });

  describe('concurrent transfers from one payer, and several entries in one transaction', () => {
    it('decides each of many concurrent transfers on its own', async () => {
      const [a, b] = [newUserId(), newUserId()];
      await mint(t, a, 100n);
      // 30 debits of 10 from an account holding 100: exactly 10 fit, whichever order they come in.
      const results = await Promise.allSettled(Array.from({ length: 30 }, () => post(transfer(a, b, 10n))));
      const refused = results.filter((r) => r.status === 'rejected');
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
      for (const r of refused) expect((r as PromiseRejectedResult).reason.code).toBe('INSUFFICIENT_FUNDS');
      expect((await wallet(a)).posted).toBe(0n);
      expect((await wallet(b)).posted).toBe(100n);
    });

    it('lets an entry spend what an earlier entry of the same postMany brought in, and refuses one that overdraws', async () => {
      const [a, b, c] = [newUserId(), newUserId(), newUserId()];
      await mint(t, a, 50n);
      const entries = [transfer(a, b, 50n), transfer(b, c, 30n), transfer(b, c, 30n), transfer(b, c, 20n)];
      const outcomes = await tx.run((em) => ledger.postMany(em, entries));
      expect(outcomes.map((o) => ('ok' in o ? 'ok' : o.error.code))).toEqual(['ok', 'ok', 'INSUFFICIENT_FUNDS', 'ok']);
      expect((await wallet(b)).posted).toBe(0n);
      expect((await wallet(c)).posted).toBe(50n);
    });

    it('refuses to write without a caller transaction (a programming error, not a coded refusal)', async () => {
      const user = newUserId();
      await mint(t, user, 100n);
      const hold = escrowHold(user, 10n);
      const before = await ledgerFootprint(t);
      for (const write of [
        () => ledger.post(t.dataSource.manager, transfer(user, newUserId(), 1n)),
        () => ledger.postMany(t.dataSource.manager, [transfer(user, newUserId(), 1n)]),
        () => ledger.debitInOrder(t.dataSource.manager, { userId: user, asset: 'CREDIT', from: ['wallet'], amount: 1n }),
        () => ledger.hold(t.dataSource.manager, hold),
        () => ledger.capture(t.dataSource.manager, randomUUID()),
        () => ledger.void(t.dataSource.manager, randomUUID()),
      ]) {
        const err = await write().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(Error);
        expect(err).not.toBeInstanceOf(AppError);
        expect((err as Error).message).toMatch(/needs the caller transaction/);
      }
      expect(await ledgerFootprint(t)).toEqual(before);
    });
  });

  describe('hot receivers and lock order', () => {
    const sale = (buyer: string, creator: string, amount: bigint) => ({
      kind: 'purchase',
      reference: `sale:${randomUUID()}`,
      postings: [
        { account: userAccount(buyer, 'CREDIT', 'wallet'), amount: -amount },
        { account: userAccount(creator, 'CREDIT', 'earnings_pending'), amount },
      ],
    });
    const mature = (creator: string, amount: bigint) => ({
      kind: 'earnings_maturation',
      reference: `mature:${randomUUID()}`,
      postings: [
        { account: userAccount(creator, 'CREDIT', 'earnings_pending'), amount: -amount },
        { account: userAccount(creator, 'CREDIT', 'earnings'), amount },
      ],
    });
    const rowOf = async (owner: string, name: string) =>
      (
        await t.sql<{ id: string; balance: string; pending: string }>(
          `SELECT b.account_id::text AS id, b.balance::text AS balance,
                  (SELECT count(*) FROM ledger_pending_credits c WHERE c.account_id = b.account_id)::text AS pending
             FROM ledger_balances b JOIN ledger_accounts a ON a.id = b.account_id WHERE a.owner_id = $1 AND a.name = $2`,
          [owner, name],
        )
      )[0];

    it('credits an account without waiting for its balance row, even while that row is locked', async () => {
      const [buyer, creator] = [newUserId(), newUserId()];
      await mint(t, buyer, 100n);
      await post(sale(buyer, creator, 10n));
      const { id } = await rowOf(creator, 'earnings_pending');
      await withClient(t, async (c) => {
        await c.query('BEGIN');
        await c.query('SELECT 1 FROM ledger_balances WHERE account_id = $1 FOR NO KEY UPDATE', [id]);
        const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('the credit waited for the lock')), 5_000));
        await Promise.race([Promise.all([post(sale(buyer, creator, 10n)), post(sale(buyer, creator, 10n))]), timeout]);
        await c.query('ROLLBACK');
      });
      expect((await ledger.balance(userAccount(creator, 'CREDIT', 'earnings_pending'))).posted).toBe(30n);
    });

    it('appends credits made in caller transactions, folds them into the row on a debit or by the compactor', async () => {
      const creator = newUserId();
      const buyers = Array.from({ length: 40 }, () => newUserId());
      await Promise.all(buyers.map((b) => mint(t, b, 25n)));
      await Promise.all(buyers.map((b) => post(sale(b, creator, 25n))));
      const before = await rowOf(creator, 'earnings_pending');
      expect(before.balance).toBe('0');
      expect(Number(before.pending)).toBe(40);
      expect((await ledger.balance(userAccount(creator, 'CREDIT', 'earnings_pending'))).posted).toBe(1_000n);

      // (the first credit of a new account goes through a pending credit; the compactor folds it)
      await post(mature(creator, 1n));
      expect(await ledger.foldPendingCredits()).toBeGreaterThan(0);
      await post(mature(creator, 599n));
      expect(await rowOf(creator, 'earnings_pending')).toMatchObject({ balance: '400', pending: '0' });
      // A caller's transaction never takes the receiver's lock: its credits wait as pending credits...
      expect(await rowOf(creator, 'earnings')).toMatchObject({ balance: '1', pending: '1' });
      await post(mature(creator, 50n));
      expect(await rowOf(creator, 'earnings')).toMatchObject({ balance: '1', pending: '2' });
      // ...which the periodic compactor folds.
      expect(await ledger.foldPendingCredits()).toBeGreaterThan(0);
      expect(await rowOf(creator, 'earnings')).toMatchObject({ balance: '650', pending: '0' });
      expect((await ledger.verify()).problems).toEqual([]);
    });

    /** A payer with 100 on its balance row and a pending credit of 50 from `sender`. */
    const payerWithPendingCredit = async () => {
      const [payer, sender] = [newUserId(), newUserId()];
      await mint(t, payer, 100n);
      await mint(t, sender, 50n);
      await ledger.foldPendingCredits();
      await post(transfer(sender, payer, 50n));
      return { payer, sender };
    };

    it('counts credits a fold moved while the payer waited for its lock once, not twice', async () => {
      const { payer, sender } = await payerWithPendingCredit();
      const { id, pending } = await rowOf(payer, 'wallet');
      expect(pending).toBe('1');
      const engine = t.app.get(PostingEngineService);
      const reread = jest.spyOn(engine, 'readFundsFresh');
      try {
        const funds = await withClient(t, async (c) => {
          await c.query('BEGIN');
          await c.query('SELECT 1 FROM ledger_balances WHERE account_id = $1 FOR NO KEY UPDATE', [id]); // as the fold's callers do
          await c.query('SELECT ledger_fold($1::bigint[])', [[id]]);
          const folder = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
          const read = tx.run((em) => engine.lockFindAndReadFunds(em, 'entries', [], [id]));
          // Commit only once the read is waiting for the row (its snapshot then predates the fold).
          while (!(await t.sql('SELECT 1 FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid))', [folder])).length) {
            await new Promise((r) => setTimeout(r, 10));
          }
          await c.query('COMMIT');
          return (await read).funds;
        });
        expect(reread).toHaveBeenCalledTimes(1);
        expect(funds.get(id)).toBe(150n);
        // Without a concurrent change, the one statement's read stands.
        expect((await tx.run((em) => engine.lockFindAndReadFunds(em, 'entries', [], [id]))).funds.get(id)).toBe(150n);
        expect(reread).toHaveBeenCalledTimes(1);
      } finally {
        reread.mockRestore();
      }
      expect(await rowOf(payer, 'wallet')).toMatchObject({ balance: '150', pending: '0' });
      await expect(appError(post(transfer(payer, sender, 151n)))).resolves.toMatchObject({ code: 'INSUFFICIENT_FUNDS' });
      expect((await post(transfer(payer, sender, 150n))).replayed).toBe(false);
    });

    it('reads pending credits only for a payer whose row does not cover what the entries may take', async () => {
      const { payer, sender } = await payerWithPendingCredit();
      const { id } = await rowOf(payer, 'wallet');
      const engine = t.app.get(PostingEngineService);
      const read = (needs?: Map<string, bigint>) =>
        tx.run(async (em) => (await engine.lockFindAndReadFunds(em, 'entries', [], [id], needs)).funds.get(id));
      await expect(read(new Map([[id, 100n]]))).resolves.toBe(100n); // the row covers it: answered from the row alone
      await expect(read(new Map([[id, 101n]]))).resolves.toBe(150n);
      await expect(read()).resolves.toBe(150n);
      // A post that needs the pending credit gets it; one more than everything is refused.
      await expect(appError(post(transfer(payer, sender, 151n)))).resolves.toMatchObject({ code: 'INSUFFICIENT_FUNDS' });
      expect((await post(transfer(payer, sender, 130n))).replayed).toBe(false);
      expect(await rowOf(payer, 'wallet')).toMatchObject({ balance: '20', pending: '0' });
    });

    it('does not deadlock opposite transfers that each lock their payer first (debitInOrder, then post)', async () => {
      const [a, b] = [newUserId(), newUserId()];
      await mint(t, a, 100n);
      await mint(t, b, 100n);
      let attempts = 0;
      let arrived = 0;
      let release!: () => void;
      const bothLocked = new Promise<void>((r) => (release = r));
      const pay = (from: string, to: string) =>
        tx.run(async (em) => {
          attempts++;
          const debit = await ledger.debitInOrder(em, { userId: from, asset: 'CREDIT', from: ['wallet'], amount: 10n });
          if (++arrived === 2) release();
          await bothLocked;
          await ledger.post(em, {
            kind: 'gift',
            reference: `gift:${randomUUID()}`,
            postings: [...debit.postings, { account: userAccount(to, 'CREDIT', 'wallet'), amount: 10n }],
          });
        });
      await Promise.all([pay(a, b), pay(b, a)]);
      expect(attempts).toBe(2);
      expect((await wallet(a)).posted).toBe(100n);
      expect((await wallet(b)).posted).toBe(100n);
    });
  });
});

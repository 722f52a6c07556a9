import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { addHours } from '../../src/common/time';
import { TransactionRunner } from '../../src/database/transaction-runner';
import { LedgerService } from '../../src/ledger/ledger.service';
import { ledgerFootprint, mint, newUserId, sqlError, useLedgerApp, withClient } from '../support/ledger-fixtures';
import { TestApp } from '../support/test-app';

/**
 * The ledger's invariants hold in PostgreSQL itself: every test here bypasses the application and
 * writes raw SQL, and the database refuses.
 */
describe('ledger invariants enforced by PostgreSQL (raw SQL)', () => {
  let t: TestApp, ledger: LedgerService, tx: TransactionRunner;
  let alice: string;
  let bob: string;
  const ids: Record<string, string> = {};

  const accountId = async (owner: string, asset: string, name: string) =>
    (
      await t.sql<{ id: string }>('SELECT id::text AS id FROM ledger_accounts WHERE owner_id = $1 AND asset = $2 AND name = $3', [
        owner,
        asset,
        name,
      ])
    )[0].id;

  /** Inserts an entry row (without postings) on `c`; answers its id. */
  const insertEntryRow = async (c: Client, reference = `raw:${randomUUID()}`): Promise<string> =>
    (
      await c.query(`INSERT INTO ledger_entries (reference, kind, content_hash, created_at) VALUES ($1, 'raw', 'x', now()) RETURNING id`, [
        reference,
      ])
    ).rows[0].id;

  /** One transaction: an entry and its postings (account id, amount), committed. */
  async function rawEntry(c: Client, postings: [string, number][], reference = `raw:${randomUUID()}`): Promise<string> {
    await c.query('BEGIN');
    try {
      const entryId = await insertEntryRow(c, reference);
      for (const [account, amount] of postings) {
        await c.query('INSERT INTO ledger_postings (entry_id, account_id, amount) VALUES ($1, $2, $3)', [entryId, account, amount]);
      }
      await c.query('COMMIT');
      return entryId;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  /** The SQLSTATE (and constraint) a raw entry with these postings is refused with. */
  const rawRefusal = (postings: [string, number][], reference?: string) => withClient(t, (c) => sqlError(rawEntry(c, postings, reference)));

  useLedgerApp((s) => ({ t, ledger, tx } = s));
  beforeAll(async () => {
    alice = newUserId();
    bob = newUserId();
    await mint(t, alice, 100n);
    await mint(t, bob, 10n);
    await mint(t, alice, 50n, 'PROMO');
    ids.alice = await accountId(alice, 'CREDIT', 'wallet');
    ids.bob = await accountId(bob, 'CREDIT', 'wallet');
    ids.issuance = await accountId('00000000-0000-0000-0000-000000000000', 'CREDIT', 'issuance');
    ids.promoIssuance = await accountId('00000000-0000-0000-0000-000000000000', 'PROMO', 'issuance');
  });

  it('accepts a balanced raw entry, and the postings move the balance rows', async () => {
    await withClient(t, (c) =>
      rawEntry(c, [
        [ids.alice, -30],
        [ids.bob, 30],
      ]),
    );
    expect(await ledger.balance({ userId: alice, asset: 'CREDIT', name: 'wallet' })).toEqual({ posted: 70n, held: 0n, available: 70n });
    expect((await ledger.balance({ userId: bob, asset: 'CREDIT', name: 'wallet' })).posted).toBe(40n);
  });

  it.each([
    { name: 'refuses, at commit, an entry whose postings do not sum to zero', from: 'issuance', debit: -10, credit: 9 },
    { name: 'refuses an entry that balances overall but not per asset', from: 'promoIssuance', debit: -10, credit: 10 },
  ])('$name', async ({ from, debit, credit }) => {
    const before = await ledgerFootprint(t);
    const err = await rawRefusal([
      [ids[from], debit],
      [ids.bob, credit],
    ]);
    expect(err).toEqual({ code: '23514', constraint: 'ledger_entry_balanced' });
    expect(await ledgerFootprint(t)).toEqual(before);
  });

  it('refuses entries with fewer than two postings', async () => {
    const noLegs = await rawRefusal([]);
    expect(noLegs.constraint).toBe('ledger_entry_balanced');
    const oneLeg = await rawRefusal([[ids.bob, 10]]);
    expect(oneLeg).toEqual({ code: '23514', constraint: 'ledger_entry_balanced' });
    const zero = await rawRefusal([
      [ids.bob, 0],
      [ids.alice, 0],
    ]);
    expect(zero.code).toBe('23514');
  });

  it('checks balance even when a session defers nothing (SET CONSTRAINTS ALL IMMEDIATE fails early)', async () => {
    const err = await withClient(t, async (c) => {
      await c.query('BEGIN');
      await c.query('SET CONSTRAINTS ALL IMMEDIATE');
      return sqlError(
        c.query(`INSERT INTO ledger_entries (reference, kind, content_hash, created_at) VALUES ($1, 'raw', 'x', now())`, [
          `raw:${randomUUID()}`,
        ]),
      );
    });
    expect(err.constraint).toBe('ledger_entry_balanced');
  });

  it('refuses an overdraft: the postings trigger moves the balance and the CHECK on the row fires', async () => {
    const before = await ledgerFootprint(t);
    const err = await rawRefusal([
      [ids.bob, -1000],
      [ids.alice, 1000],
    ]);
    expect(err).toEqual({ code: '23514', constraint: 'ledger_balances_non_negative' });
    expect(await ledgerFootprint(t)).toEqual(before);
    const direct = await sqlError(t.sql('UPDATE ledger_balances SET balance = -1 WHERE account_id = $1', [ids.bob]));
    expect(direct).toEqual({ code: '23514', constraint: 'ledger_balances_non_negative' });
  });

  it('lets issuance and a user debt account go negative, and nothing else', async () => {
    await withClient(t, (c) =>
      rawEntry(c, [
        [ids.issuance, -5],
        [ids.bob, 5],
      ]),
    );
    await tx.run((em) =>
      ledger.post(em, {
        kind: 'debt',
        reference: `debt:${randomUUID()}`,
        postings: [
          { account: { userId: bob, asset: 'CREDIT', name: 'debt' }, amount: -20n },
          { account: { system: 'chargeback_loss', asset: 'CREDIT' }, amount: 20n },
        ],
      }),
    );
    const debt = await accountId(bob, 'CREDIT', 'debt');
    await ledger.foldPendingCredits();
    const [row] = await t.sql<{ balance: string }>('SELECT balance::text AS balance FROM ledger_balances WHERE account_id = $1', [debt]);
    expect(row.balance).toBe('-20');
    // Movements that bypass the balance row (and its CHECK) can only be credits for such an account.
    expect(
      await sqlError(t.sql('INSERT INTO ledger_pending_credits (account_id, allow_negative, amount) VALUES ($1, false, -5)', [ids.bob])),
    ).toEqual({
      code: '23514',
      constraint: 'ledger_pending_credits_credit',
    });
    expect(
      await sqlError(t.sql('INSERT INTO ledger_pending_credits (account_id, allow_negative, amount) VALUES ($1, true, -5)', [ids.bob])),
    ).toEqual({
      code: '23503',
      constraint: 'ledger_pending_credits_account',
    });
    const loss = await accountId('00000000-0000-0000-0000-000000000000', 'CREDIT', 'chargeback_loss');
    expect(await sqlError(t.sql('UPDATE ledger_balances SET balance = -1 WHERE account_id = $1', [loss]))).toEqual({
      code: '23514',
      constraint: 'ledger_balances_non_negative',
    });
    // The flag on a balance row must match its account: it cannot be flipped to escape the CHECK.
    expect((await sqlError(t.sql('UPDATE ledger_balances SET allow_negative = true WHERE account_id = $1', [ids.bob]))).code).toBe('23503');
  });

  it('keeps entries, postings, seals and accounts append-only (UPDATE, DELETE and TRUNCATE refused)', async () => {
    const { holdId } = await tx.run((em) =>
      ledger.hold(em, {
        reference: `hold:${randomUUID()}`,
        kind: 'test',
        from: { userId: alice, asset: 'CREDIT', name: 'wallet' },
        to: { userId: bob, asset: 'CREDIT', name: 'wallet' },
        amount: 1n,
        expiresAt: addHours(new Date(), 1),
      }),
    );
    await ledger.sealPending();
    const statements = [
      'UPDATE ledger_entries SET kind = $$x$$',
      'DELETE FROM ledger_entries',
      'TRUNCATE ledger_entries CASCADE',
      'UPDATE ledger_postings SET amount = amount * 2',
      'DELETE FROM ledger_postings',
      'TRUNCATE ledger_postings',
      'UPDATE ledger_seals SET hash = prev_hash',
      'DELETE FROM ledger_seals',
      'TRUNCATE ledger_seals',
      'UPDATE ledger_accounts SET name = $$wallet$$',
      'DELETE FROM ledger_accounts',
      'DELETE FROM ledger_balances',
      'TRUNCATE ledger_balances CASCADE',
      'DELETE FROM ledger_holds',
      'TRUNCATE ledger_pending_credits',
    ];
    expect(Number((await t.sql<{ n: string }>('SELECT count(*) AS n FROM ledger_seals'))[0].n)).toBeGreaterThan(0);
    for (const statement of statements) {
      const err = await sqlError(t.sql(statement));
      expect({ statement, code: err.code }).toEqual({ statement, code: '23001' });
    }
    await tx.run((em) => ledger.void(em, holdId));
  });

  it('refuses a second entry with the same reference', async () => {
    const reference = `raw:${randomUUID()}`;
    await withClient(t, (c) =>
      rawEntry(
        c,
        [
          [ids.alice, -1],
          [ids.bob, 1],
        ],
        reference,
      ),
    );
    const err = await rawRefusal(
      [
        [ids.alice, -1],
        [ids.bob, 1],
      ],
      reference,
    );
    expect(err).toEqual({ code: '23505', constraint: 'ledger_entries_reference' });
  });

  it('refuses postings added later to an entry that is already committed', async () => {
    const entryId = await withClient(t, (c) =>
      rawEntry(c, [
        [ids.alice, -1],
        [ids.bob, 1],
      ]),
    );
    const err = await withClient(t, async (c) => {
      await c.query('BEGIN');
      return sqlError(
        c.query('INSERT INTO ledger_postings (entry_id, account_id, amount) VALUES ($1, $2, 5), ($1, $3, -5)', [
          entryId,
          ids.bob,
          ids.issuance,
        ]),
      );
    });
    expect(err).toEqual({ code: '23503', constraint: 'ledger_postings_entry' });
  });

  it('refuses postings to an entry or an account that does not exist', async () => {
    const noEntry = await withClient(t, (c) =>
      sqlError(
        c.query('INSERT INTO ledger_postings (entry_id, account_id, amount) VALUES ($1, $2, 5), ($1, $3, -5)', [
          randomUUID(),
          ids.bob,
          ids.issuance,
        ]),
      ),
    );
    expect(noEntry).toEqual({ code: '23503', constraint: 'ledger_postings_entry' });
    const noAccount = await rawRefusal([
      [ids.bob, -1],
      ['987654321', 1],
    ]);
    expect(noAccount).toEqual({ code: '23503', constraint: 'ledger_postings_account' });
  });

  it('refuses, at commit, an entry that claims another transaction id (which would slip it into the sealed past)', async () => {
    const before = await ledgerFootprint(t);
    const err = await withClient(t, async (c) => {
      await c.query('BEGIN');
      await c.query(`INSERT INTO ledger_entries (reference, kind, content_hash, created_at, xid) VALUES ($1, 'raw', 'x', now(), '3')`, [
        `raw:${randomUUID()}`,
      ]);
      return c.query('COMMIT').then(
        () => undefined,
        (e: { code: string; constraint: string; message: string }) => e,
      );
    });
    expect(err).toMatchObject({
      code: '23514',
      constraint: 'ledger_entry_balanced',
      message: expect.stringContaining('id of the transaction'),
    });
    expect(await ledgerFootprint(t)).toEqual(before);
  });

  it('checks entries written after an early check (SET CONSTRAINTS IMMEDIATE) again at commit', async () => {
    const err = await withClient(t, async (c) => {
      await c.query('BEGIN');
      const first = await insertEntryRow(c);
      await c.query('INSERT INTO ledger_postings (entry_id, account_id, amount) VALUES ($1, $2, -1), ($1, $3, 1)', [
        first,
        ids.alice,
        ids.bob,
      ]);
      await c.query('SET CONSTRAINTS ALL IMMEDIATE');
      await c.query('SET CONSTRAINTS ALL DEFERRED');
      const second = await insertEntryRow(c);
      await c.query('INSERT INTO ledger_postings (entry_id, account_id, amount) VALUES ($1, $2, -1)', [second, ids.alice]);
      return sqlError(c.query('COMMIT'));
    });
    expect(err).toEqual({ code: '23514', constraint: 'ledger_entry_balanced' });
  });

  it("locks a raw writer's debited rows in key order, so it cannot deadlock with a writer that does too", async () => {
    // Two wallets whose balance rows lie in the heap in the reverse of their key order.
    const wallets: string[] = [];
    for (const owner of [newUserId(), newUserId()]) {
      const [row] = await t.sql<{ id: string }>(
        `INSERT INTO ledger_accounts (owner_id, asset, name, allow_negative, created_at)
         VALUES ($1, 'CREDIT', 'wallet', false, now()) RETURNING id::text AS id`,
        [owner],
      );
      wallets.push(row.id);
    }
    for (const id of [...wallets].reverse())
      await t.sql('INSERT INTO ledger_balances (account_id, allow_negative) VALUES ($1, false)', [id]);
    const [a, b] = wallets;
    await withClient(t, async (c) => {
      await rawEntry(c, [
        [ids.issuance, -200],
        [a, 100],
        [b, 100],
      ]);
      await c.query('SELECT ledger_fold($1::bigint[])', [[a, b]]);
    });
    const errors: string[] = [];
    await withClient(t, (app) =>
      withClient(t, async (raw) => {
        for (const c of [app, raw]) await c.query(`SET deadlock_timeout = '100ms'`);
        await app.query('BEGIN');
        await app.query('SELECT 1 FROM ledger_balances WHERE account_id = $1 FOR NO KEY UPDATE', [a]);
        // One statement of debits that both rows cover by themselves; the writer locked nothing first.
        const writing = (async () => {
          await raw.query('BEGIN');
          const entryId = await insertEntryRow(raw);
          await raw.query(
            'INSERT INTO ledger_postings (entry_id, account_id, amount) SELECT $1, x.a, x.m FROM unnest($2::bigint[], $3::bigint[]) x(a, m)',
            [entryId, [a, b, ids.bob], [-10, -10, 20]],
          );
          await raw.query('COMMIT');
        })().catch(async (err: { code?: string }) => {
          errors.push(`raw ${err.code}`);
          await raw.query('ROLLBACK');
        });
        await new Promise((r) => setTimeout(r, 300));
        await app
          .query('SELECT 1 FROM ledger_balances WHERE account_id = $1 FOR NO KEY UPDATE', [b])
          .then(() => app.query('COMMIT'))
          .catch(async (err: { code?: string }) => {
            errors.push(`app ${err.code}`);
            await app.query('ROLLBACK');
          });
        await writing;
      }),
    );
    expect(errors).toEqual([]);
  });

  it('runs the ledger functions that query with one plan per connection (re-planning them cost a large share of each write)', async () => {
    const querying = [
      'ledger_check_balanced',
      'ledger_postings_apply',
      'ledger_pending_credits_check',
      'ledger_hold_reserve',
      'ledger_fold',
      'ledger_lock_find_read',
      'ledger_post',
      'ledger_insert_entries',
    ];
    const rows = await t.sql<{ name: string }>(
      `SELECT p.proname AS name FROM pg_proc p
        WHERE p.proname = ANY($1::text[]) AND 'plan_cache_mode=force_generic_plan' = ANY(p.proconfig)`,
      [querying],
    );
    expect(rows.map((r) => r.name).sort()).toEqual([...querying].sort());
  });

  it('ledger_post writes in its one statement only when no reference exists and the funds cover the entry', async () => {
    const carol = newUserId();
    await mint(t, carol, 10n);
    const [payer, payee] = [await accountId(carol, 'CREDIT', 'wallet'), ids.alice];
    const post = (c: Client, reference: string, amount: number) => {
      const entry = randomUUID();
      return c
        .query(
          `SELECT written, reference, account_id, available FROM ledger_post($1::bigint[], $2::bigint[], $3::uuid[], $4::text[], '{raw}',
                  '{"{}"}', '{x}', ARRAY[now()], $5::uuid[], $6::uuid[], $7::bigint[], $8::bigint[])`,
          [[payer], [amount], [entry], [reference], [randomUUID(), randomUUID()], [entry, entry], [payer, payee], [-amount, amount]],
        )
        .then((r) => ({ entry, rows: r.rows }));
    };
    const reference = `raw:${randomUUID()}`;
    const outcomes = await withClient(t, async (c) => {
      await c.query('BEGIN');
      const short = await post(c, reference, 11);
      const covered = await post(c, reference, 4);
      const again = await post(c, reference, 4);
      await c.query('COMMIT');
      return { short: short.rows, covered: covered.rows, entry: covered.entry, again: again.rows };
    });
    expect(outcomes.short).toEqual([{ written: false, reference: null, account_id: payer, available: '10' }]);
    expect(outcomes.covered).toEqual([
      { written: false, reference: null, account_id: payer, available: '10' },
      { written: true, reference: null, account_id: null, available: null },
    ]);
    expect(outcomes.again).toEqual([
      { written: false, reference: null, account_id: payer, available: '6' },
      { written: false, reference, account_id: null, available: null },
    ]);
    expect(await ledger.balance({ userId: carol, asset: 'CREDIT', name: 'wallet' })).toEqual({ posted: 6n, held: 0n, available: 6n });
  });

  it('credits an account the statement does not debit through a pending credit, whatever the session sets', async () => {
    const row = async () =>
      (
        await t.sql<{ balance: string; pending: string }>(
          `SELECT b.balance::text AS balance, (SELECT count(*) FROM ledger_pending_credits c WHERE c.account_id = b.account_id)::text AS pending
             FROM ledger_balances b WHERE b.account_id = $1`,
          [ids.bob],
        )
      )[0];
    const before = await row();
    await withClient(t, async (c) => {
      await c.query('BEGIN');
      // What the removed batch path told the trigger about receivers it had locked: no longer read.
      await c.query(`SELECT set_config('ledger.direct_credits', $1, true)`, [ids.bob]);
      const entryId = await insertEntryRow(c);
      await c.query(
        'INSERT INTO ledger_postings (entry_id, account_id, amount) SELECT $1, x.a, x.m FROM unnest($2::bigint[], $3::bigint[]) x(a, m)',
        [entryId, [ids.issuance, ids.bob], [-1, 1]],
      );
      await c.query('COMMIT');
    });
    expect(await row()).toEqual({ balance: before.balance, pending: String(Number(before.pending) + 1) });
  });

  describe('holds', () => {
    const insertHold = (from: string, amount: number, reference = `raw-hold:${randomUUID()}`) =>
      t.sql<{ id: string }>(
        `INSERT INTO ledger_holds (reference, kind, from_account_id, to_account_id, amount, content_hash, created_at, expires_at)
         VALUES ($1, 'raw', $2, $3, $4, 'x', now(), now() + interval '1 hour') RETURNING id`,
        [reference, from, from === ids.bob ? ids.alice : ids.bob, amount],
      );

    it('reserve funds through a trigger, and refuse to reserve more than is available', async () => {
      const { available } = await ledger.balance({ userId: alice, asset: 'CREDIT', name: 'wallet' });
      const [hold] = await insertHold(ids.alice, Number(available) - 1);
      expect(await ledger.balance({ userId: alice, asset: 'CREDIT', name: 'wallet' })).toMatchObject({
        held: available - 1n,
        available: 1n,
      });
      expect(await sqlError(insertHold(ids.alice, 2))).toEqual({ code: '23514', constraint: 'ledger_balances_non_negative' });
      // Reserved funds cannot be spent: a raw debit of them fails the same CHECK.
      expect(
        (
          await rawRefusal([
            [ids.alice, -2],
            [ids.bob, 2],
          ])
        ).constraint,
      ).toBe('ledger_balances_non_negative');
      await t.sql(`UPDATE ledger_holds SET status = 'voided', closed_at = now() WHERE id = $1`, [hold.id]);
      expect((await ledger.balance({ userId: alice, asset: 'CREDIT', name: 'wallet' })).held).toBe(0n);
    });

    it('move only from pending to a final state, once, and never change their terms', async () => {
      const [hold] = await insertHold(ids.alice, 5);
      expect((await sqlError(t.sql('UPDATE ledger_holds SET amount = 1 WHERE id = $1', [hold.id]))).constraint).toBe(
        'ledger_holds_transition',
      );
      await t.sql(`UPDATE ledger_holds SET status = 'voided', closed_at = now() WHERE id = $1`, [hold.id]);
      const reopen = await sqlError(t.sql(`UPDATE ledger_holds SET status = 'pending', closed_at = NULL WHERE id = $1`, [hold.id]));
      expect(reopen.constraint).toBe('ledger_holds_transition');
      const twice = await sqlError(t.sql(`UPDATE ledger_holds SET status = 'expired' WHERE id = $1`, [hold.id]));
      expect(twice.constraint).toBe('ledger_holds_transition');
      expect(
        (
          await sqlError(
            t.sql(
              `INSERT INTO ledger_holds (reference, kind, from_account_id, to_account_id, amount, status, closed_at, content_hash, created_at, expires_at)
        VALUES ('raw-closed', 'raw', $1, $2, 1, 'voided', now(), 'x', now(), now() + interval '1 hour')`,
              [ids.alice, ids.bob],
            ),
          )
        ).constraint,
      ).toBe('ledger_holds_transition');
      expect(
        (
          await sqlError(
            insertHold(
              ids.alice,
              1,
              (await t.sql<{ reference: string }>('SELECT reference FROM ledger_holds WHERE id = $1', [hold.id]))[0].reference,
            ),
          )
        ).code,
      ).toBe('23505');
    });
  });

  it('still verifies after all of the above', async () => {
    const report = await ledger.verify();
    expect(report.problems).toEqual([]);
    expect(report).toMatchObject({ ok: true, chainOk: true });
    expect(report.assets.CREDIT.sum).toBe(0n);
  });
});

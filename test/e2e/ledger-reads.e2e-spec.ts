import { randomUUID } from 'node:crypto';
import { ensureAdmin } from '../../src/boot';
import { Clock } from '../../src/common/clock.service';
import { addDays } from '../../src/common/time';
import { TransactionRunner } from '../../src/database/transaction-runner';
import { LedgerService, systemAccount, userAccount } from '../../src/ledger/ledger.service';
import { bearer, lastMail, signUp, strongPassword, uniqueEmail } from '../support/auth';
import { appError, escrowHold, mint, newUserId, transfer, useLedgerApp, withClient } from '../support/ledger-fixtures';
import { TestApp } from '../support/test-app';

describe('ledger: balances, history, point in time, verification, HTTP', () => {
  let t: TestApp, ledger: LedgerService, clock: Clock, tx: TransactionRunner;

  useLedgerApp((s) => ({ t, ledger, clock, tx } = s));

  describe('history', () => {
    it('lists postings newest first with the balance after each, across pages', async () => {
      const [a, b] = [newUserId(), newUserId()];
      await mint(t, a, 100n);
      await mint(t, a, 7n, 'PROMO');
      await tx.run((em) => ledger.post(em, transfer(a, b, 30n)));
      await tx.run((em) => ledger.post(em, transfer(b, a, 5n)));
      await tx.run((em) => ledger.post(em, transfer(a, b, 1n)));
      const expected = [
        { kind: 'transfer', account: 'wallet', asset: 'CREDIT', amount: -1n, balanceAfter: 74n },
        { kind: 'transfer', account: 'wallet', asset: 'CREDIT', amount: 5n, balanceAfter: 75n },
        { kind: 'transfer', account: 'wallet', asset: 'CREDIT', amount: -30n, balanceAfter: 70n },
        { kind: 'mint', account: 'wallet', asset: 'PROMO', amount: 7n, balanceAfter: 7n },
        { kind: 'mint', account: 'wallet', asset: 'CREDIT', amount: 100n, balanceAfter: 100n },
      ];
      const all = await ledger.history(a, {});
      expect(all.items.map(({ kind, account, asset, amount, balanceAfter }) => ({ kind, account, asset, amount, balanceAfter }))).toEqual(
        expected,
      );
      expect(all.nextCursor).toBeNull();

      const seen = [];
      let cursor: string | undefined;
      do {
        const page = await ledger.history(a, { limit: 2, cursor });
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(seen).toEqual(all.items);
      expect((await appError(ledger.history(a, { cursor: 'bm90IGEgY3Vyc29y' }))).code).toBe('VALIDATION_FAILED');

      const issuance = await ledger.accountHistory(systemAccount('issuance', 'PROMO'), { limit: 1 });
      expect(issuance.items[0]).toMatchObject({ amount: -7n, account: 'issuance' });
    });

    it('gives a point-in-time balance on the business clock', async () => {
      const a = newUserId();
      await mint(t, a, 100n);
      const { holdId } = await tx.run((em) => ledger.hold(em, escrowHold(a, 40n, clock.in(86_400))));
      const t1 = clock.now();
      await clock.advance(3_600);
      await tx.run((em) => ledger.post(em, transfer(a, newUserId(), 25n)));
      await tx.run((em) => ledger.void(em, holdId));
      const t2 = clock.now();
      await clock.advance(3_600);
      await tx.run((em) => ledger.post(em, transfer(a, newUserId(), 5n)));
      const account = userAccount(a, 'CREDIT', 'wallet');
      expect(await ledger.balance(account, t1)).toEqual({ posted: 100n, held: 40n, available: 60n });
      expect(await ledger.balance(account, t2)).toEqual({ posted: 75n, held: 0n, available: 75n });
      expect(await ledger.balance(account, addDays(t1, -1))).toEqual({ posted: 0n, held: 0n, available: 0n });
      expect(await ledger.balance(account)).toEqual({ posted: 70n, held: 0n, available: 70n });
    });
  });

  describe('HTTP', () => {
    it('GET /me/balances: the sign-up and email-verified PROMO bonuses, every listed account, debt as owed', async () => {
      const u = await signUp(t);
      const first = await t
        .http()
        .get('/me/balances')
        .set(...bearer(u.accessToken))
        .expect(200);
      expect(first.body).toEqual({
        CREDIT: { wallet: 0, earnings: 0, earnings_pending: 0, reseller_stock: 0, bond: 0, held: 0, debt: 0 },
        PROMO: { wallet: t.config.economy.signupBonusPromo, held: 0, debt: 0 },
        DEV_TOKEN: { wallet: 0, held: 0 },
      });
      const { token } = (await lastMail(t, u.email, 'email_verification'))!.data;
      await t.http().post('/auth/email/verify').send({ token }).expect(204);
      await mint(t, u.id, 500n);
      await tx.run((em) =>
        ledger.post(em, {
          kind: 'clawback',
          reference: `clawback:${randomUUID()}`,
          postings: [
            { account: userAccount(u.id, 'CREDIT', 'debt'), amount: -120n },
            { account: systemAccount('chargeback_loss', 'CREDIT'), amount: 120n },
          ],
        }),
      );
      const res = await t
        .http()
        .get('/me/balances')
        .set(...bearer(u.accessToken))
        .expect(200);
      expect(res.body.PROMO.wallet).toBe(t.config.economy.signupBonusPromo + t.config.economy.emailVerifiedBonusPromo);
      expect(res.body.CREDIT).toMatchObject({ wallet: 500, debt: 120 });
    });

    it('GET /me/ledger: own postings only, integers, paginated', async () => {
      const u = await signUp(t);
      const other = await signUp(t);
      await mint(t, u.id, 50n);
      await tx.run((em) => ledger.post(em, transfer(u.id, other.id, 20n)));
      const page1 = await t
        .http()
        .get('/me/ledger?limit=2')
        .set(...bearer(u.accessToken))
        .expect(200);
      expect(page1.body.items).toEqual([
        {
          id: expect.any(String),
          entryId: expect.any(String),
          account: 'wallet',
          asset: 'CREDIT',
          amount: -20,
          balanceAfter: 30,
          kind: 'transfer',
          createdAt: expect.any(String),
        },
        {
          id: expect.any(String),
          entryId: expect.any(String),
          account: 'wallet',
          asset: 'CREDIT',
          amount: 50,
          balanceAfter: 50,
          kind: 'mint',
          createdAt: expect.any(String),
        },
      ]);
      const page2 = await t
        .http()
        .get(`/me/ledger?limit=2&cursor=${page1.body.nextCursor}`)
        .set(...bearer(u.accessToken))
        .expect(200);
      expect(page2.body).toEqual({
        items: [expect.objectContaining({ kind: 'signup_bonus', asset: 'PROMO', amount: t.config.economy.signupBonusPromo })],
        nextCursor: null,
      });
      await t
        .http()
        .get('/me/ledger?limit=500')
        .set(...bearer(u.accessToken))
        .expect(400);
      await t.http().get('/me/ledger').expect(401);
      await t.http().get('/me/balances').expect(401);
    });

    it('GET /admin/ledger/verify: admins only; reports the sums per asset', async () => {
      const buyer = await signUp(t);
      await t
        .http()
        .get('/admin/ledger/verify')
        .set(...bearer(buyer.accessToken))
        .expect(403);
      const email = uniqueEmail('admin');
      const password = strongPassword();
      await ensureAdmin(t.app, email, password, 'test');
      const login = await t.http().post('/auth/login').send({ email, password }).expect(200);
      const res = await t
        .http()
        .get('/admin/ledger/verify')
        .set(...bearer(login.body.accessToken))
        .expect(200);
      expect(res.body).toMatchObject({ ok: true, chainOk: true, problems: [], unsealed: 0 });
      expect(res.body.entries).toBeGreaterThan(0);
      expect(res.body.assets.CREDIT).toEqual({ sum: 0, minted: expect.any(Number), burned: 0, supply: expect.any(Number) });
      expect(res.body.assets.PROMO.minted).toBeGreaterThanOrEqual(t.config.economy.signupBonusPromo);
    });
  });

  describe('verification and tamper evidence', () => {
    it('seals entries into a hash chain in the background and verifies it', async () => {
      await mint(t, newUserId(), 10n);
      await ledger.sealPending();
      const report = await ledger.verify();
      expect(report).toMatchObject({ ok: true, chainOk: true, unsealed: 0, problems: [] });
      expect(report.sealed).toBe(report.entries);
      const [{ minted }] = await t.sql<{ minted: string }>(
        `SELECT (-sum(p.amount))::text AS minted FROM ledger_postings p JOIN ledger_accounts a ON a.id = p.account_id
          WHERE a.asset = 'CREDIT' AND a.name = 'issuance' AND p.amount < 0`,
      );
      expect(report.assets.CREDIT.minted).toBe(BigInt(minted));
    });

    // Last: it leaves this database tampered with.
    it("detects a posting rewritten behind the triggers' back (chain, balances and entry balance)", async () => {
      const a = newUserId();
      const { entryId } = await mint(t, a, 10n);
      await ledger.sealPending();
      await withClient(t, async (c) => {
        await c.query('BEGIN');
        await c.query(`SET LOCAL session_replication_role = replica`);
        await c.query(`UPDATE ledger_postings SET amount = 1000 WHERE entry_id = $1 AND amount = 10`, [entryId]);
        await c.query('COMMIT');
      });
      const report = await ledger.verify();
      expect(report.ok).toBe(false);
      expect(report.chainOk).toBe(false);
      const codes = report.problems.map((p) => p.code);
      expect(codes).toEqual(expect.arrayContaining(['CHAIN_HASH', 'BALANCE_MISMATCH', 'UNBALANCED_ENTRY', 'ASSET_NOT_ZERO']));
      expect(report.problems.find((p) => p.code === 'CHAIN_HASH')!.detail).toContain(entryId);
    });
  });
});

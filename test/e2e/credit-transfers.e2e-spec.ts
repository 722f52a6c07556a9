import { randomUUID } from 'node:crypto';
import { IdentityService } from '../../src/identity/identity.service';
import { systemAccount, userAccount } from '../../src/ledger/ledger.service';
import {
  Actor,
  as,
  balance,
  fund,
  ledger,
  login,
  makeAdmin,
  publishListing,
  relogin,
  signUp,
  signUpCreator,
  verifyEmail,
  whileKeyIsDecided,
  disableFraudRule,
  GIFT_TO_NEW_LINKED_ACCOUNT_RULE,
} from '../support/market-fixtures';
import { grantResellerRole } from '../support/reseller-fixtures';
import { TestApp, useTestApp } from '../support/test-app';

const DAY = 86_400;

describe('credit transfers (POST /credit-transfers)', () => {
  let t: TestApp, admin: Actor, recipient: Actor;

  useTestApp((app) => (t = app));
  beforeAll(async () => {
    admin = await makeAdmin(t, await signUp(t, 'admin'));
    await disableFraudRule(t, admin, GIFT_TO_NEW_LINKED_ACCOUNT_RULE);
    recipient = await signUp(t, 'recipient');
  });

  /** A sender with a verified email and `credits` (not recently bought) in the wallet. */
  async function sender(credits = 10_000): Promise<Actor> {
    const a = await signUp(t, 'sender');
    await verifyEmail(t, a);
    if (credits) await fund(t, a.id, 'CREDIT', credits);
    return a;
  }
  const gift = (a: Actor, amount: unknown, extra: object = {}, key?: string) =>
    as(t, a).post('/credit-transfers', { toUserId: recipient.id, amount, ...extra }, key);
  const code = async (req: PromiseLike<{ status: number; body: { code?: string } }>, status: number) => {
    const res = await req;
    expect(res.status).toBe(status);
    return res.body.code;
  };

  it("moves credits from the sender's wallet to the recipient's wallet", async () => {
    const s = await sender();
    const before = await balance(t, recipient.id, 'CREDIT');
    const res = await gift(s, 2500, { note: 'happy birthday' }).expect(201);
    expect(res.body).toMatchObject({ id: expect.any(String), status: 'completed', amount: 2500, toUserId: recipient.id });
    expect(await balance(t, s.id, 'CREDIT')).toBe(7500n);
    expect(await balance(t, recipient.id, 'CREDIT')).toBe(before + 2500n);
    const lines = await as(t, recipient).get('/me/ledger').expect(200);
    expect(lines.body.items[0]).toMatchObject({ kind: 'gift', account: 'wallet', amount: 2500 });
  });

  it('replays the same key and refuses it with another body', async () => {
    const s = await sender();
    const key = randomUUID();
    const first = await gift(s, 1000, {}, key).expect(201);
    const again = await gift(s, 1000, {}, key).expect(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.id).toBe(first.body.id);
    expect(await code(gift(s, 1001, {}, key), 422)).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await balance(t, s.id, 'CREDIT')).toBe(9000n);
  });

  it('takes the longest key (255 characters): the ledger reference derived from it stays within bounds', async () => {
    const s = await sender();
    const key = 'k'.repeat(255);
    const first = await gift(s, 1000, {}, key).expect(201);
    const again = await gift(s, 1000, {}, key).expect(201);
    expect([again.headers['idempotent-replayed'], again.body.id]).toEqual(['true', first.body.id]);
    expect(await balance(t, s.id, 'CREDIT')).toBe(9000n);
  });

  it('answers a request whose key another transaction is deciding as in progress, before its own checks', async () => {
    const s = await sender();
    const key = randomUUID();
    await whileKeyIsDecided(t, s.id, key, async () => {
      expect(await code(gift(s, 1000, {}, key), 409)).toBe('IDEMPOTENCY_IN_PROGRESS');
      // this body would fail its own checks (unknown recipient: 404), but the key is looked at first
      expect(await code(as(t, s).post('/credit-transfers', { toUserId: randomUUID(), amount: 1000 }, key), 409)).toBe(
        'IDEMPOTENCY_IN_PROGRESS',
      );
    });
    await gift(s, 1000, {}, key).expect(201);
    expect(await balance(t, s.id, 'CREDIT')).toBe(9000n);
  });

  it('validates the request', async () => {
    const s = await sender();
    for (const amount of [0, -5, 1.5, '100', null]) expect(await code(gift(s, amount), 400)).toBe('VALIDATION_FAILED');
    expect(await code(as(t, s).post('/credit-transfers', { toUserId: 'x', amount: 100 }), 400)).toBe('VALIDATION_FAILED');
    expect(await code(gift(s, 100, { extra: true }), 400)).toBe('VALIDATION_FAILED');
    expect(await code(as(t, s).post('/credit-transfers', { toUserId: s.id, amount: 100 }), 400)).toBe('VALIDATION_FAILED');
    expect(await code(as(t, s).post('/credit-transfers', { toUserId: s.id.toUpperCase(), amount: 100 }), 400)).toBe('VALIDATION_FAILED');
    expect(await code(as(t, s).post('/credit-transfers', { toUserId: randomUUID(), amount: 100 }), 404)).toBe('NOT_FOUND');
    expect(
      await code(t.http().post('/credit-transfers').set('Idempotency-Key', 'k').send({ toUserId: recipient.id, amount: 100 }), 401),
    ).toBe('UNAUTHENTICATED');
    expect(await balance(t, s.id, 'CREDIT')).toBe(10_000n);
  });

  it('needs a verified email', async () => {
    const s = await signUp(t, 'unverified');
    await fund(t, s.id, 'CREDIT', 1000);
    expect(await code(gift(s, 100), 403)).toBe('FORBIDDEN');
  });

  it('enforces the per-transfer minimum and maximum', async () => {
    const s = await sender(200_000);
    const { creditGiftMin: min, creditGiftMax: max } = t.config.economy;
    expect(await code(gift(s, min - 1), 409)).toBe('LIMIT_EXCEEDED');
    expect(await code(gift(s, max + 1), 409)).toBe('LIMIT_EXCEEDED');
    await gift(s, min).expect(201);
    await gift(s, max).expect(201);
  });

  it('gives only wallet credits: earnings, reseller stock and PROMO cannot be gifted', async () => {
    const s = await sender(0);
    await fund(t, s.id, 'CREDIT', 5000, 'earnings');
    await fund(t, s.id, 'CREDIT', 5000, 'reseller_stock');
    await fund(t, s.id, 'PROMO', 5000);
    expect(await code(gift(s, 100), 409)).toBe('INSUFFICIENT_FUNDS');
    await fund(t, s.id, 'CREDIT', 150);
    expect(await code(gift(s, 151), 409)).toBe('INSUFFICIENT_FUNDS');
    await gift(s, 150).expect(201);
  });

  it('never gives to a reseller (403 RECIPIENT_NOT_ALLOWED), before any limit, and the key stays unused', async () => {
    const s = await sender();
    const r = await signUp(t, 'reseller');
    await grantResellerRole(t, r.id);
    const key = randomUUID();
    const toReseller = (amount: number) => as(t, s).post('/credit-transfers', { toUserId: r.id, amount }, key);
    expect(await code(toReseller(1000), 403)).toBe('RECIPIENT_NOT_ALLOWED');
    expect(await code(toReseller(1), 403)).toBe('RECIPIENT_NOT_ALLOWED');
    expect(await balance(t, s.id, 'CREDIT')).toBe(10_000n);
    expect(await balance(t, r.id, 'CREDIT')).toBe(0n);
    // Without the role (revoked by the reseller flow), the same key gifts.
    await t.dataSource.transaction((em) => t.app.get(IdentityService).removeRole(em, r.id, 'reseller'));
    await toReseller(1000).expect(201);
  });

  it('does not gift credits bought in the last 24 hours', async () => {
    const s = await sender(1000);
    // a real token purchase through the Stripe sandbox: the signed webhook mints the credits
    const pkg = (await t.http().get('/token-packages').expect(200)).body.items[0] as { id: string; credits: number };
    const bought = await as(t, s).post('/token-purchases', { packageId: pkg.id }).expect(201);
    await t.http().post(`/dev/payments/${bought.body.paymentIntentId}/succeed`).send({}).expect(200);
    await t.http().post('/dev/jobs/run').expect(200);
    expect(await balance(t, s.id, 'CREDIT')).toBe(1000n + BigInt(pkg.credits));

    const refused = await gift(s, 1001).expect(409);
    expect(refused.body).toMatchObject({ code: 'LIMIT_EXCEEDED', giftable: 1000 });
    await gift(s, 1000).expect(201);
    await t
      .http()
      .post('/dev/clock')
      .send({ advanceSeconds: DAY + 60 })
      .expect(200);
    const fresh = await relogin(t, s);
    await gift(fresh, Math.min(pkg.credits, t.config.economy.creditGiftMax)).expect(201);
    admin = await relogin(t, admin);
  });

  it('counts credits bought while the gift is being decided (a mint committing just before the wallet is locked)', async () => {
    const s = await sender(1000);
    const ledgerService = ledger(t);
    const debitsInOrder = ledgerService.debitsInOrder.bind(ledgerService);
    const spy = jest.spyOn(ledgerService, 'debitsInOrder').mockImplementationOnce(async (em, list) => {
      // a token purchase's credits, minted (and committed) after the gift's checks began
      await t.dataSource.transaction((mintEm) =>
        ledgerService.post(mintEm, {
          kind: 'mint',
          reference: `test_mint:${randomUUID()}`,
          postings: [
            { account: systemAccount('issuance', 'CREDIT'), amount: -500n },
            { account: userAccount(s.id, 'CREDIT', 'wallet'), amount: 500n },
          ],
        }),
      );
      return debitsInOrder(em, list);
    });
    try {
      const refused = await gift(s, 1001).expect(409);
      expect(refused.body).toMatchObject({ code: 'LIMIT_EXCEEDED', limit: 'recent_purchase', giftable: 1000 });
    } finally {
      spy.mockRestore();
    }
    expect(await balance(t, s.id, 'CREDIT')).toBe(1500n);
    await gift(s, 1000).expect(201);
  });

  it('decides transfers that share a batch each on its own: a short one is refused alone and leaves nothing behind', async () => {
    const first = await sender();
    const others = [await sender(), await sender(), await sender(500), await sender()];
    // The first transfer's batch waits on its sender's lock while the others queue up behind it, so
    // they go out together in the next batch transaction.
    const runner = t.dataSource.createQueryRunner();
    await runner.startTransaction();
    let results: { status: number; body: { code?: string; status?: string } }[];
    try {
      await runner.query(`SELECT pg_advisory_xact_lock(hashtextextended('credit_transfers:' || $1::uuid, 0))`, [first.id]);
      const firstGift = gift(first, 1000).then((r) => r);
      await new Promise((r) => setTimeout(r, 300));
      const rest = others.map((s) => gift(s, 1000).then((r) => r));
      await new Promise((r) => setTimeout(r, 500));
      await runner.commitTransaction();
      results = await Promise.all([firstGift, ...rest]);
    } finally {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      await runner.release();
    }
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 409, 201]);
    expect(results[3].body).toMatchObject({ code: 'INSUFFICIENT_FUNDS', available: 500 });
    expect(await Promise.all([first, ...others].map((s) => balance(t, s.id, 'CREDIT')))).toEqual([9000n, 9000n, 9000n, 500n, 9000n]);
    const short = others[2].id;
    const [{ transfers, decisions }] = await t.sql<{ transfers: number; decisions: number }>(
      `SELECT (SELECT count(*)::int FROM credit_transfers WHERE from_user_id = $1) AS transfers,
              (SELECT count(*)::int FROM fraud_decisions WHERE user_id = $1 AND event_type = 'credit_transfer') AS decisions`,
      [short],
    );
    expect({ transfers, decisions }).toEqual({ transfers: 0, decisions: 0 });
    await gift(others[2], 500).expect(201);
  });

  it('caps gifts at 500,000 per 30 days, exactly, under concurrent requests', async () => {
    const s = await sender(1_000_000);
    // older than the default fraud rule's 7 days, so these large gifts complete (held ones: fraud-orders.e2e-spec.ts)
    await t.sql(`UPDATE users SET created_at = created_at - interval '8 days' WHERE id = $1`, [s.id]);
    const results = await Promise.all(Array.from({ length: 8 }, () => gift(s, 100_000)));
    expect(results.map((r) => r.status).sort()).toEqual([201, 201, 201, 201, 201, 409, 409, 409]);
    expect(results.filter((r) => r.status === 409).every((r) => r.body.code === 'LIMIT_EXCEEDED')).toBe(true);
    expect(await balance(t, s.id, 'CREDIT')).toBe(500_000n);
    expect(await code(gift(s, 100), 409)).toBe('LIMIT_EXCEEDED');
    await t
      .http()
      .post('/dev/clock')
      .send({ advanceSeconds: 30 * DAY + 60 })
      .expect(200);
    await gift(await relogin(t, s), 100_000).expect(201);
    admin = await relogin(t, admin);
  });

  describe('account state', () => {
    it('needs a re-authentication within the last minutes', async () => {
      const s = await sender();
      await t
        .http()
        .post('/dev/clock')
        .send({ advanceSeconds: 6 * 60 })
        .expect(200);
      expect(await code(gift(s, 100), 401)).toBe('REAUTH_REQUIRED');
      await as(t, s).post('/auth/reauth', { password: s.password }).expect(204);
      await gift(s, 100).expect(201);
    });

    it('refuses while frozen (before any limit), yet buying an item for oneself stays allowed', async () => {
      const s = await sender();
      await as(t, s)
        .post('/me/freeze')
        .expect((r) => expect(r.status).toBeLessThan(300));
      expect(await code(gift(s, 100), 423)).toBe('ACCOUNT_FROZEN');
      expect(await code(gift(s, 1), 423)).toBe('ACCOUNT_FROZEN');
      const creator = await signUpCreator(t);
      const item = await publishListing(t, creator, admin, { profit: 100 });
      expect(await code(as(t, s).post('/orders', { listingId: item.id, giftToUserId: recipient.id }), 423)).toBe('ACCOUNT_FROZEN');
      await as(t, s).post('/orders', { listingId: item.id }).expect(201);
    });

    it('refuses during the cooling period after a login from a new device', async () => {
      const s = await sender();
      const fromNewDevice = { ...s, token: (await login(t, s.email, s.password)).accessToken };
      expect(await code(gift(fromNewDevice, 100), 423)).toBe('COOLING_PERIOD_ACTIVE');
    });

    it('refuses while the account is on hold or in debt', async () => {
      const held = await sender();
      await as(t, admin).post(`/admin/users/${held.id}/hold`, { reason: 'investigation' }).expect(200);
      expect(await code(gift(held, 100), 423)).toBe('ACCOUNT_ON_HOLD');

      const owing = await sender();
      await t.dataSource.transaction((em) =>
        ledger(t).post(em, {
          kind: 'test_debt',
          reference: `test_debt:${randomUUID()}`,
          postings: [
            { account: userAccount(owing.id, 'CREDIT', 'debt'), amount: -50n },
            { account: systemAccount('chargeback_loss', 'CREDIT'), amount: 50n },
          ],
        }),
      );
      expect(await code(gift(owing, 100), 423)).toBe('ACCOUNT_IN_DEBT');
      expect(await balance(t, owing.id, 'CREDIT')).toBe(10_000n);
    });
  });
});

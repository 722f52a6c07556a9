import { randomUUID } from 'node:crypto';
import { Asset, systemAccount, UserAccountName, userAccount } from '../../src/ledger/ledger.service';
import { OrdersService } from '../../src/orders/orders.service';
import {
  Actor,
  as,
  balance,
  bulkBuyers,
  fund,
  fundAll,
  ledger,
  makeAdmin,
  owe,
  publishListing,
  relogin,
  signUp,
  signUpCreator,
  systemBalance,
  verifyLedger,
  whileKeyIsDecided,
  disableFraudRule,
  GIFT_TO_NEW_LINKED_ACCOUNT_RULE,
} from '../support/market-fixtures';
import { roundTrips } from '../support/round-trips';
import { TestApp, useTestApp } from '../support/test-app';

const DAY = 86_400;

describe('orders: purchases, gifts, inventory, earnings, refunds', () => {
  let t: TestApp, admin: Actor, creator: Actor;
  let hat: { id: string; price: number; profit: number; platformFee: number };

  useTestApp((app) => (t = app));
  beforeAll(async () => {
    admin = await makeAdmin(t, await signUp(t, 'admin'));
    await disableFraudRule(t, admin, GIFT_TO_NEW_LINKED_ACCOUNT_RULE);
    creator = await signUpCreator(t);
    hat = await publishListing(t, creator, admin, { title: 'Hat', profit: 1000 }); // price 1100
  });

  const buy = (a: Actor, body: object, key?: string) => as(t, a).post('/orders', body, key);
  const runJobs = () => t.http().post('/dev/jobs/run').expect(200);
  /** The user spends `amount` of an account on something outside the market (it is burnt). */
  const spendOutside = (userId: string, asset: Asset, name: UserAccountName, amount: bigint) =>
    t.dataSource.transaction((em) =>
      ledger(t).post(em, {
        kind: 'test_spend',
        reference: `test_spend:${randomUUID()}`,
        postings: [
          { account: userAccount(userId, asset, name), amount: -amount },
          { account: systemAccount('burn', asset), amount },
        ],
      }),
    );
  // Access tokens (15 min) and sessions (30 days) expire on the business clock: log in again after moving it.
  const advance = (seconds: number) => t.http().post('/dev/clock').send({ advanceSeconds: seconds }).expect(200);
  const countOrdersBy = async (buyerId: string) =>
    (await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM orders WHERE buyer_id = $1`, [buyerId]))[0].n;
  const countOrders = async (listingId: string) =>
    (await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM orders WHERE listing_id = $1`, [listingId]))[0].n;

  describe('buying with credits', () => {
    it('pays the seller (pending), the platform and delivers the item, in one ledger entry', async () => {
      const buyer = await signUp(t, 'buyer');
      await fund(t, buyer.id, 'CREDIT', 5000);
      const platformBefore = await systemBalance(t, 'platform_revenue', 'CREDIT');
      const pendingBefore = await balance(t, creator.id, 'CREDIT', 'earnings_pending');

      const res = await buy(buyer, { listingId: hat.id }).expect(201);
      expect(res.body).toMatchObject({ listingId: hat.id, price: 1100, payWith: 'CREDIT', status: 'completed', giftToUserId: null });

      expect(await balance(t, buyer.id, 'CREDIT')).toBe(3900n);
      expect(await balance(t, creator.id, 'CREDIT', 'earnings_pending')).toBe(pendingBefore + 1000n);
      expect(await systemBalance(t, 'platform_revenue', 'CREDIT')).toBe(platformBefore + 100n);
      const inventory = await as(t, buyer).get('/me/inventory').expect(200);
      expect(inventory.body.items).toEqual([expect.objectContaining({ listingId: hat.id, orderId: res.body.id, giftFromUserId: null })]);
      // The response is the order as stored.
      const orders = await as(t, buyer).get('/me/orders').expect(200);
      expect(orders.body.items).toEqual([res.body]);
      const sales = await as(t, creator).get('/me/sales').expect(200);
      expect(sales.body.items[0]).toMatchObject({ orderId: res.body.id, role: 'seller', asset: 'CREDIT', amount: 1000, state: 'pending' });

      const lines = await as(t, buyer).get('/me/ledger').expect(200);
      const sellerLines = await as(t, creator).get('/me/ledger').expect(200);
      const entryId = lines.body.items.find((l: { kind: string }) => l.kind === 'purchase').entryId;
      expect(sellerLines.body.items).toEqual(
        expect.arrayContaining([expect.objectContaining({ entryId, account: 'earnings_pending', amount: 1000 })]),
      );
      expect((await verifyLedger(t)).ok).toBe(true);
    });

    it('draws the wallet first, then earnings, and a refund returns each part where it came from', async () => {
      const buyer = await signUp(t, 'mixed');
      await fund(t, buyer.id, 'CREDIT', 300);
      await fund(t, buyer.id, 'CREDIT', 2000, 'earnings');
      const order = await buy(buyer, { listingId: hat.id }).expect(201);
      expect(await balance(t, buyer.id, 'CREDIT')).toBe(0n);
      expect(await balance(t, buyer.id, 'CREDIT', 'earnings')).toBe(1200n);
      await as(t, admin).post(`/admin/orders/${order.body.id}/refund`, { reason: 'test', chargeCreator: true }).expect(200);
      expect(await balance(t, buyer.id, 'CREDIT')).toBe(300n);
      expect(await balance(t, buyer.id, 'CREDIT', 'earnings')).toBe(2000n);
    });

    it('splits a derived item among ancestors (capped), seller and platform', async () => {
      const base = await publishListing(t, creator, admin, { profit: 10_000 });
      const deriver = await signUpCreator(t, 'deriver');
      const child = await publishListing(t, deriver, admin, { profit: 100, parentListingId: base.id }); // price 11110, royalties 2222
      const buyer = await signUp(t, 'buyer');
      await fund(t, buyer.id, 'CREDIT', child.price);
      const before = {
        anc: await balance(t, creator.id, 'CREDIT', 'earnings_pending'),
        platform: await systemBalance(t, 'platform_revenue', 'CREDIT'),
      };
      await buy(buyer, { listingId: child.id }).expect(201);
      expect(await balance(t, creator.id, 'CREDIT', 'earnings_pending')).toBe(before.anc + 2222n);
      expect(await balance(t, deriver.id, 'CREDIT', 'earnings_pending')).toBe(7878n);
      expect(await systemBalance(t, 'platform_revenue', 'CREDIT')).toBe(before.platform + 1010n);
      expect(await balance(t, buyer.id, 'CREDIT')).toBe(0n);
      const sales = await as(t, creator).get('/me/sales').expect(200);
      expect(sales.body.items[0]).toMatchObject({ role: 'ancestor', listingId: base.id, soldListingId: child.id, amount: 2222 });
    });

    it('refuses what it cannot do and changes nothing', async () => {
      const buyer = await signUp(t, 'refused');
      await fund(t, buyer.id, 'CREDIT', 1099);
      expect((await buy(buyer, { listingId: hat.id }).expect(409)).body.code).toBe('INSUFFICIENT_FUNDS');
      expect((await buy(creator, { listingId: hat.id }).expect(403)).body.code).toBe('FORBIDDEN');
      expect((await buy(buyer, { listingId: randomUUID() }).expect(404)).body.code).toBe('NOT_FOUND');
      const { body: draft } = await as(t, creator)
        .post('/listings', { title: 'd', description: '', category: 'hats', profit: 1 })
        .expect(201);
      expect((await buy(buyer, { listingId: draft.id }).expect(409)).body.code).toBe('INVALID_STATE');
      expect((await buy(buyer, { listingId: hat.id, payWith: 'DEV_TOKEN' }).expect(400)).body.code).toBe('VALIDATION_FAILED');
      expect((await buy(buyer, { listingId: hat.id, extra: 1 }).expect(400)).body.code).toBe('VALIDATION_FAILED');
      expect(await balance(t, buyer.id, 'CREDIT')).toBe(1099n);
      expect((await as(t, buyer).get('/me/inventory').expect(200)).body.items).toEqual([]);
      expect((await as(t, buyer).get('/me/orders').expect(200)).body.items).toEqual([]);
    });

    it('decides a purchase in at most eight round trips: what needs no answer before it goes out together', async () => {
      // The creator's first sale is recorded already; the buyer's accounts are looked up in the batch.
      const warm = await signUp(t, 'warm');
      await fund(t, warm.id, 'CREDIT', hat.price);
      await buy(warm, { listingId: hat.id }).expect(201);
      const buyer = await signUp(t, 'wire');
      await fund(t, buyer.id, 'CREDIT', hat.price);
      const request = { userId: buyer.id, key: `wire-${randomUUID()}`, requestHash: 'h', responseStatus: 201 };
      const purchase = () =>
        t.app.get(OrdersService).purchase(buyer.id, { listingId: hat.id }, request, { ip: '203.0.113.9', sessionId: randomUUID() });
      // BEGIN with the key's lock and read, the buyer's checks and the listing; the users, signals and
      // accounts; the funds' lock, with the velocity when their answers are read together; the fraud
      // lists; the decision with ownership; the entry, the order and the key together; COMMIT. (16
      // before these went out together.)
      const [trips] = await roundTrips(t, request.key, purchase);
      expect(trips).toBeGreaterThanOrEqual(7);
      expect(trips).toBeLessThanOrEqual(8);
      expect(await balance(t, buyer.id, 'CREDIT')).toBe(0n);
      const [order] = (await as(t, buyer).get('/me/orders').expect(200)).body.items;
      expect(order).toMatchObject({ listingId: hat.id, status: 'completed' });
    });

    it('does not sell a delisted item, but keeps the price on past orders', async () => {
      const item = await publishListing(t, creator, admin, { profit: 10 });
      const buyer = await signUp(t, 'late');
      await fund(t, buyer.id, 'CREDIT', 100);
      const order = await buy(buyer, { listingId: item.id }).expect(201);
      await as(t, admin).post(`/admin/listings/${item.id}/delist`, { reason: 'retired' }).expect(200);
      const other = await signUp(t, 'later');
      await fund(t, other.id, 'CREDIT', 100);
      expect((await buy(other, { listingId: item.id }).expect(409)).body.code).toBe('INVALID_STATE');
      expect((await as(t, buyer).get('/me/orders').expect(200)).body.items[0]).toMatchObject({ id: order.body.id, price: 11 });
    });
  });

  describe('owning an item once', () => {
    it('refuses a second purchase of an owned item', async () => {
      const buyer = await signUp(t, 'twice');
      await fund(t, buyer.id, 'CREDIT', 5000);
      await buy(buyer, { listingId: hat.id }).expect(201);
      expect((await buy(buyer, { listingId: hat.id }).expect(409)).body.code).toBe('ALREADY_OWNED');
      expect(await balance(t, buyer.id, 'CREDIT')).toBe(3900n);
    });

    it('sells exactly once to one user buying concurrently with different keys', async () => {
      const buyer = await signUp(t, 'racer');
      await fund(t, buyer.id, 'CREDIT', 50_000);
      const results = await Promise.all(Array.from({ length: 8 }, () => buy(buyer, { listingId: hat.id })));
      expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
      expect(results.filter((r) => r.status === 409).every((r) => r.body.code === 'ALREADY_OWNED')).toBe(true);
      expect(await balance(t, buyer.id, 'CREDIT')).toBe(50_000n - 1100n);
      expect(await countOrdersBy(buyer.id)).toBe(1);
    });

    it("pays one buyer's concurrent purchases of different items in turn, until the funds run out", async () => {
      const buyer = await signUp(t, 'spree');
      const items = await Promise.all(
        Array.from({ length: 6 }, (_, i) => publishListing(t, creator, admin, { title: `Spree ${i}`, profit: 1000 })),
      );
      await fund(t, buyer.id, 'CREDIT', 4000); // three items at 1100
      const results = await Promise.all(items.map((item) => buy(buyer, { listingId: item.id })));
      expect(results.map((r) => r.status).sort()).toEqual([201, 201, 201, 409, 409, 409]);
      expect(results.filter((r) => r.status === 409).every((r) => r.body.code === 'INSUFFICIENT_FUNDS')).toBe(true);
      expect(await balance(t, buyer.id, 'CREDIT')).toBe(4000n - 3n * 1100n);
      const [{ n }] = await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM inventory WHERE owner_id = $1`, [buyer.id]);
      expect(n).toBe(3);
      expect((await verifyLedger(t)).ok).toBe(true);
    });

    it('replays a request with the same key instead of buying again', async () => {
      const buyer = await signUp(t, 'replay');
      await fund(t, buyer.id, 'CREDIT', 5000);
      const key = randomUUID();
      const first = await buy(buyer, { listingId: hat.id }, key).expect(201);
      const again = await buy(buyer, { listingId: hat.id }, key).expect(201);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body.id).toBe(first.body.id);
      expect((await buy(buyer, { listingId: hat.id, payWith: 'PROMO' }, key).expect(422)).body.code).toBe('IDEMPOTENCY_KEY_REUSED');
      expect(await balance(t, buyer.id, 'CREDIT')).toBe(3900n);
    });

    it('buys once for concurrent requests with one key: the others are replays or in progress', async () => {
      const buyer = await signUp(t, 'samekey');
      await fund(t, buyer.id, 'CREDIT', 5000);
      const key = randomUUID();
      const results = await Promise.all(Array.from({ length: 6 }, () => buy(buyer, { listingId: hat.id }, key)));
      const created = results.filter((r) => r.status === 201);
      expect(created.length).toBeGreaterThanOrEqual(1);
      expect(new Set(created.map((r) => r.body.id)).size).toBe(1);
      expect(created.filter((r) => r.headers['idempotent-replayed'] !== 'true')).toHaveLength(1);
      expect(results.filter((r) => r.status !== 201).every((r) => r.status === 409 && r.body.code === 'IDEMPOTENCY_IN_PROGRESS')).toBe(
        true,
      );
      expect(await balance(t, buyer.id, 'CREDIT')).toBe(3900n);
      expect(await countOrdersBy(buyer.id)).toBe(1);
    });

    it('answers a request whose key another transaction is deciding as in progress, before its own checks', async () => {
      const buyer = await signUp(t, 'inflight');
      await fund(t, buyer.id, 'CREDIT', 5000);
      const key = randomUUID();
      // Stand in for a purchase batch deciding this key right now: hold the key's lock in an open transaction.
      await whileKeyIsDecided(t, buyer.id, key, async () => {
        for (const body of [{ listingId: hat.id }, { listingId: hat.id, giftToUserId: randomUUID() }]) {
          expect((await buy(buyer, body, key).expect(409)).body.code).toBe('IDEMPOTENCY_IN_PROGRESS');
        }
      });
      await buy(buyer, { listingId: hat.id }, key).expect(201);
      expect(await countOrdersBy(buyer.id)).toBe(1);
    });

    it('leaves the key of a refused purchase free for a corrected request', async () => {
      const buyer = await signUp(t, 'retry');
      const key = randomUUID();
      expect((await buy(buyer, { listingId: hat.id }, key).expect(409)).body.code).toBe('INSUFFICIENT_FUNDS');
      await fund(t, buyer.id, 'CREDIT', 5000);
      await buy(buyer, { listingId: hat.id }, key).expect(201);
      expect(await balance(t, buyer.id, 'CREDIT')).toBe(3900n);
    });

    it('answers a repeated key before any other check: another body is 422, the same body a replay even after a hold', async () => {
      const buyer = await signUp(t, 'keyfirst');
      await fund(t, buyer.id, 'CREDIT', 5000);
      const key = randomUUID();
      const first = await buy(buyer, { listingId: hat.id }, key).expect(201);
      // this body would fail its own checks (unknown recipient: 404) but the key is looked at first
      const other = await buy(buyer, { listingId: hat.id, giftToUserId: randomUUID() }, key).expect(422);
      expect(other.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
      await t.sql(`INSERT INTO account_holds (user_id, reason, placed_by, placed_at) VALUES ($1, 'test', $2, now())`, [buyer.id, admin.id]);
      const again = await buy(buyer, { listingId: hat.id }, key).expect(201);
      expect([again.headers['idempotent-replayed'], again.body.id]).toEqual(['true', first.body.id]);
    });

    it('decides the account checks in the batch, each purchase alone: on hold, in debt, a gift from a frozen account', async () => {
      const [held, owing, frozen, fine, recipient] = await Promise.all(
        ['held', 'owing', 'frozen', 'fine', 'recipient'].map((n) => signUp(t, n)),
      );
      for (const u of [held, owing, frozen, fine]) await fund(t, u.id, 'CREDIT', 5000);
      await t.sql(`INSERT INTO account_holds (user_id, reason, placed_by, placed_at) VALUES ($1, 'test', $2, now())`, [held.id, admin.id]);
      await owe(t, owing.id, 300n);
      await as(t, frozen).post('/me/freeze').expect(200);
      const answers = await Promise.all([
        buy(held, { listingId: hat.id }),
        buy(owing, { listingId: hat.id }),
        buy(frozen, { listingId: hat.id, giftToUserId: recipient.id }),
        buy(frozen, { listingId: hat.id, giftToUserId: randomUUID() }),
        buy(fine, { listingId: hat.id }),
      ]);
      expect(answers.map((r) => [r.status, r.body.code])).toEqual([
        [423, 'ACCOUNT_ON_HOLD'],
        [423, 'ACCOUNT_IN_DEBT'],
        [423, 'ACCOUNT_FROZEN'],
        [404, 'NOT_FOUND'],
        [201, undefined],
      ]);
      expect(answers[1].body.owed).toBe(300);
      for (const u of [held, owing, frozen]) expect(await countOrdersBy(u.id)).toBe(0);
      expect(await countOrdersBy(fine.id)).toBe(1);
      expect(await balance(t, owing.id, 'CREDIT')).toBe(5000n);
    });

    it('lets a request re-run after a crash buy once: the key is recorded with the order, in its transaction', async () => {
      const buyer = await signUp(t, 'crash');
      await fund(t, buyer.id, 'CREDIT', 5000);
      const key = randomUUID();
      // Hold the buyer's balance rows, so that the purchase batch stops inside its transaction (its key
      // claimed), then kill that transaction's backend: the server dies mid-purchase.
      const runner = t.dataSource.createQueryRunner();
      await runner.startTransaction();
      let first: Promise<{ status: number }>;
      try {
        await runner.query(
          `SELECT 1 FROM ledger_balances b JOIN ledger_accounts a ON a.id = b.account_id WHERE a.owner_id = $1 FOR UPDATE OF b`,
          [buyer.id],
        );
        const [{ pid: blocker }] = (await runner.query('SELECT pg_backend_pid() AS pid')) as { pid: number }[];
        first = buy(buyer, { listingId: hat.id }, key).then((r) => r);
        let batch: { pid: number } | undefined;
        while (!batch) {
          [batch] = await t.sql<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid))', [blocker]);
          if (!batch) await new Promise((r) => setTimeout(r, 10));
        }
        await t.sql('SELECT pg_terminate_backend($1, 10000)', [batch.pid]);
      } finally {
        await runner.rollbackTransaction();
        await runner.release();
      }
      // A terminated backend is the database going away mid-request: 503, safe to retry with the key.
      expect((await first).status).toBe(503);
      // Nothing of the crashed run is left: no order, no payment, no key.
      expect(await countOrdersBy(buyer.id)).toBe(0);
      expect(await balance(t, buyer.id, 'CREDIT')).toBe(5000n);
      const rerun = await buy(buyer, { listingId: hat.id }, key).expect(201);
      expect(rerun.headers['idempotent-replayed']).toBeUndefined();
      // The rerun's response lost too: answered from its key with the order it made.
      const again = await buy(buyer, { listingId: hat.id }, key).expect(201);
      expect([again.headers['idempotent-replayed'], again.body.id]).toEqual(['true', rerun.body.id]);
      expect((await buy(buyer, { listingId: hat.id }).expect(409)).body.code).toBe('ALREADY_OWNED');
      expect(await balance(t, buyer.id, 'CREDIT')).toBe(3900n);
      expect(await countOrdersBy(buyer.id)).toBe(1);
    });
  });

  describe('gifts', () => {
    it('takes ids in upper case too: the gift is sold, paid and owned exactly once', async () => {
      const cap = await publishListing(t, creator, admin, { title: 'Upper cap', profit: 100 }); // price 110
      const [giver, friend] = [await signUp(t, 'upgiver'), await signUp(t, 'upfriend')];
      await fund(t, giver.id, 'CREDIT', 5000);
      await buy(giver, { listingId: cap.id.toUpperCase(), giftToUserId: friend.id.toUpperCase() }).expect(201);
      const [{ n }] = await t.sql<{ n: number }>(
        `SELECT count(*)::int AS n FROM inventory i JOIN orders o ON o.id = i.order_id WHERE i.owner_id = $1 AND o.buyer_id = $2`,
        [friend.id, giver.id],
      );
      expect(n).toBe(1);
      expect(await balance(t, giver.id, 'CREDIT')).toBe(5000n - 110n);
    });

    it("puts a gift in the recipient's inventory, paid by the buyer", async () => {
      const [giver, friend] = [await signUp(t, 'giver'), await signUp(t, 'friend')];
      await fund(t, giver.id, 'CREDIT', 5000);
      const res = await buy(giver, { listingId: hat.id, giftToUserId: friend.id }).expect(201);
      expect(res.body).toMatchObject({ giftToUserId: friend.id, status: 'completed' });
      expect((await as(t, friend).get('/me/inventory').expect(200)).body.items).toEqual([
        expect.objectContaining({ listingId: hat.id, giftFromUserId: giver.id }),
      ]);
      expect((await as(t, giver).get('/me/inventory').expect(200)).body.items).toEqual([]);
      expect(await balance(t, giver.id, 'CREDIT')).toBe(3900n);
      expect((await buy(giver, { listingId: hat.id, giftToUserId: friend.id }).expect(409)).body.code).toBe('ALREADY_OWNED');
      expect((await buy(giver, { listingId: hat.id, giftToUserId: giver.id }).expect(400)).body.code).toBe('VALIDATION_FAILED');
      expect((await buy(giver, { listingId: hat.id, giftToUserId: randomUUID() }).expect(404)).body.code).toBe('NOT_FOUND');
      const promoGift = await buy(giver, { listingId: hat.id, giftToUserId: friend.id, payWith: 'PROMO' }).expect(400);
      expect(promoGift.body.errors[0].field).toBe('payWith');
      await buy(giver, { listingId: hat.id }).expect(201);
    });
  });

  describe('PROMO', () => {
    it('burns the price and pays every creator in the chain DEV_TOKENs, which pay a submission fee', async () => {
      const a = await signUpCreator(t, 'promo-a');
      const b = await signUpCreator(t, 'promo-b');
      const root = await publishListing(t, a, admin, { profit: 20 });
      const child = await publishListing(t, b, admin, { profit: 30, parentListingId: root.id });
      const grandchild = await publishListing(t, a, admin, { profit: 5, parentListingId: child.id });
      const buyer = await signUp(t, 'promo-buyer');
      await fund(t, buyer.id, 'PROMO', grandchild.price);
      const promoBefore = await balance(t, buyer.id, 'PROMO');
      const burnBefore = await systemBalance(t, 'burn', 'PROMO');
      const res = await buy(buyer, { listingId: grandchild.id, payWith: 'PROMO' }).expect(201);
      expect(res.body).toMatchObject({ payWith: 'PROMO', price: grandchild.price });
      expect(await balance(t, buyer.id, 'PROMO')).toBe(promoBefore - BigInt(grandchild.price));
      expect(await systemBalance(t, 'burn', 'PROMO')).toBe(burnBefore + BigInt(grandchild.price));
      const per = BigInt(t.config.economy.promoDevTokensPerCreator);
      expect(await balance(t, a.id, 'DEV_TOKEN')).toBe(per); // a appears twice in the chain, paid once
      expect(await balance(t, b.id, 'DEV_TOKEN')).toBe(per);
      expect(await balance(t, a.id, 'CREDIT', 'earnings_pending')).toBe(0n);
      const sales = await as(t, b).get('/me/sales').expect(200);
      expect(sales.body.items[0]).toMatchObject({ asset: 'DEV_TOKEN', payWith: 'PROMO', state: 'matured', amount: Number(per) });

      await fund(t, b.id, 'DEV_TOKEN', t.config.economy.submissionFeeDevTokens - Number(per));
      const { body: draft } = await as(t, b).post('/listings', { title: 'next', description: '', category: 'hats', profit: 1 }).expect(201);
      await as(t, b).post(`/listings/${draft.id}/submit`, { payWith: 'DEV_TOKEN' }).expect(200);
      expect(await balance(t, b.id, 'DEV_TOKEN')).toBe(0n);
    });
  });

  describe('a popular listing', () => {
    it('sells to 200 concurrent buyers exactly once each; the creator earns the sum of the profits', async () => {
      const star = await signUpCreator(t, 'star');
      const item = await publishListing(t, star, admin, { profit: 700 }); // price 770
      const buyers = await bulkBuyers(t, 200);
      await fundAll(
        t,
        buyers.map((b) => b.id),
        'CREDIT',
        1000,
      );
      const platformBefore = await systemBalance(t, 'platform_revenue', 'CREDIT');
      const results = await Promise.all(buyers.map((b) => buy(b, { listingId: item.id })));
      expect(results.filter((r) => r.status !== 201).map((r) => r.body)).toEqual([]);
      expect(await countOrders(item.id)).toBe(200);
      expect(new Set(results.map((r) => r.body.id)).size).toBe(200);
      expect(await balance(t, star.id, 'CREDIT', 'earnings_pending')).toBe(200n * 700n);
      expect(await systemBalance(t, 'platform_revenue', 'CREDIT')).toBe(platformBefore + 200n * 70n);
      for (const b of buyers.slice(0, 5)) expect(await balance(t, b.id, 'CREDIT')).toBe(230n);
      const sales = await as(t, star).get('/me/sales?limit=200').expect(200);
      expect(sales.body.items).toHaveLength(200);
      const report = await verifyLedger(t);
      expect(report).toMatchObject({ ok: true });
    });
  });

  describe('admin refunds', () => {
    let maker: Actor;
    let item: { id: string; price: number };
    beforeAll(async () => {
      maker = await signUpCreator(t, 'refunds');
      item = await publishListing(t, maker, admin, { profit: 2000 }); // price 2200
    });

    async function sold(label: string) {
      const buyer = await signUp(t, label);
      await fund(t, buyer.id, 'CREDIT', item.price);
      const order = await buy(buyer, { listingId: item.id }).expect(201);
      return { buyer, orderId: order.body.id as string };
    }
    const refund = (orderId: string, chargeCreator: boolean, key?: string) =>
      as(t, admin).post(`/admin/orders/${orderId}/refund`, { reason: 'customer complaint', chargeCreator }, key);

    it('replays a refund with the same key, refuses the key with another body, and answers it in progress while decided', async () => {
      const { buyer, orderId } = await sold('r-key');
      const key = randomUUID();
      await whileKeyIsDecided(t, admin.id, key, async () => {
        expect((await refund(orderId, false, key).expect(409)).body.code).toBe('IDEMPOTENCY_IN_PROGRESS');
        // answered before the route's own checks: this order does not exist
        expect((await refund(randomUUID(), false, key).expect(409)).body.code).toBe('IDEMPOTENCY_IN_PROGRESS');
      });
      const first = await refund(orderId, false, key).expect(200);
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      const again = await refund(orderId, false, key).expect(200);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body).toEqual(first.body);
      expect((await refund(orderId, true, key).expect(422)).body.code).toBe('IDEMPOTENCY_KEY_REUSED');
      expect(await balance(t, buyer.id, 'CREDIT')).toBe(2200n);
      const [{ n }] = await t.sql<{ n: number }>(
        `SELECT count(*)::int AS n FROM ledger_entries WHERE kind = 'refund' AND metadata->>'orderId' = $1`,
        [orderId],
      );
      expect(n).toBe(1);
    });

    it('without charging the creator: the buyer is refunded, the item removed, the creator keeps the share', async () => {
      const { buyer, orderId } = await sold('r1');
      const pending = await balance(t, maker.id, 'CREDIT', 'earnings_pending');
      const platform = await systemBalance(t, 'platform_revenue', 'CREDIT');
      const res = await refund(orderId, false).expect(200);
      expect(res.body).toMatchObject({ status: 'refunded', refundChargedCreator: false, refundReason: 'customer complaint' });
      expect(await balance(t, buyer.id, 'CREDIT')).toBe(2200n);
      expect(await balance(t, maker.id, 'CREDIT', 'earnings_pending')).toBe(pending);
      expect(await systemBalance(t, 'platform_revenue', 'CREDIT')).toBe(platform - 200n);
      expect((await as(t, buyer).get('/me/inventory').expect(200)).body.items).toEqual([]);
      expect((await refund(orderId, false).expect(409)).body.code).toBe('INVALID_STATE');
      const log = await as(t, admin).get(`/admin/audit-log?subjectId=${orderId}`).expect(200);
      expect(log.body.items[0]).toMatchObject({ action: 'order.refund', reason: 'customer complaint', actorId: admin.id });
      await buy(buyer, { listingId: item.id }).expect(201); // no longer owned: can be bought again
    });

    it('charging the creator takes a pending share back from earnings_pending', async () => {
      const { buyer, orderId } = await sold('r2');
      const pending = await balance(t, maker.id, 'CREDIT', 'earnings_pending');
      await refund(orderId, true).expect(200);
      expect(await balance(t, buyer.id, 'CREDIT')).toBe(2200n);
      expect(await balance(t, maker.id, 'CREDIT', 'earnings_pending')).toBe(pending - 2000n);
      const sales = await as(t, maker).get('/me/sales').expect(200);
      expect(sales.body.items.find((s: { orderId: string }) => s.orderId === orderId).state).toBe('reversed');
    });

    it('refunds a PROMO purchase: PROMO back to the buyer, DEV_TOKENs taken back from the creators', async () => {
      const buyer = await signUp(t, 'promo-refund');
      await fund(t, buyer.id, 'PROMO', item.price);
      const promoBefore = await balance(t, buyer.id, 'PROMO');
      const devBefore = await balance(t, maker.id, 'DEV_TOKEN');
      const order = await buy(buyer, { listingId: item.id, payWith: 'PROMO' }).expect(201);
      expect(await balance(t, maker.id, 'DEV_TOKEN')).toBe(devBefore + 1n);
      await refund(order.body.id, true).expect(200);
      expect(await balance(t, buyer.id, 'PROMO')).toBe(promoBefore);
      expect(await balance(t, maker.id, 'DEV_TOKEN')).toBe(devBefore);
    });

    it('refunds a PROMO purchase whose DEV_TOKENs the creator has already spent: they are forgiven', async () => {
      const spender = await signUpCreator(t, 'dev-spender');
      const cheap = await publishListing(t, spender, admin, { profit: 300 });
      const buyer = await signUp(t, 'promo-refund-spent');
      await fund(t, buyer.id, 'PROMO', cheap.price);
      const promoBefore = await balance(t, buyer.id, 'PROMO');
      const order = await buy(buyer, { listingId: cheap.id, payWith: 'PROMO' }).expect(201);
      const dev = await balance(t, spender.id, 'DEV_TOKEN');
      expect(dev).toBeGreaterThan(0n);
      await spendOutside(spender.id, 'DEV_TOKEN', 'wallet', dev);
      await refund(order.body.id, true).expect(200);
      expect(await balance(t, buyer.id, 'PROMO')).toBe(promoBefore);
      expect(await balance(t, spender.id, 'DEV_TOKEN')).toBe(0n);
      expect((await verifyLedger(t)).ok).toBe(true);
    });

    it("refunding a gift takes the item out of the recipient's inventory and pays the giver back", async () => {
      const [giver, friend] = [await signUp(t, 'gift-giver'), await signUp(t, 'gift-friend')];
      await fund(t, giver.id, 'CREDIT', item.price);
      const order = await buy(giver, { listingId: item.id, giftToUserId: friend.id }).expect(201);
      await refund(order.body.id, false).expect(200);
      expect(await balance(t, giver.id, 'CREDIT')).toBe(BigInt(item.price));
      expect((await as(t, friend).get('/me/inventory').expect(200)).body.items).toEqual([]);
    });

    it('charging the creator after maturation takes matured earnings, and what is missing becomes debt', async () => {
      const { buyer, orderId } = await sold('r3');
      await advance(31 * DAY);
      await runJobs();
      admin = await relogin(t, admin);
      const earned = await balance(t, maker.id, 'CREDIT', 'earnings');
      expect(earned).toBeGreaterThanOrEqual(2000n);
      // the creator spends all but 500 of the matured earnings
      const spend = earned - 500n;
      await spendOutside(maker.id, 'CREDIT', 'earnings', spend);
      await refund(orderId, true).expect(200);
      expect(await balance(t, buyer.id, 'CREDIT')).toBe(2200n);
      expect(await balance(t, maker.id, 'CREDIT', 'earnings')).toBe(0n);
      expect(await balance(t, maker.id, 'CREDIT', 'debt')).toBe(-1500n);
      expect((await verifyLedger(t)).ok).toBe(true);
    });
  });
  describe('earnings maturation', () => {
    it("matures a new creator's proceeds after 30 days and an established creator's after 7", async () => {
      const maker = await signUpCreator(t, 'maturing');
      const item = await publishListing(t, maker, admin, { profit: 500 });
      const second = await publishListing(t, maker, admin, { profit: 300 });
      const [b1, b2] = [await signUp(t, 'm1'), await signUp(t, 'm2')];
      await fund(t, b1.id, 'CREDIT', 10_000);
      await fund(t, b2.id, 'CREDIT', 10_000);

      await buy(b1, { listingId: item.id }).expect(201);
      await advance(8 * DAY);
      await runJobs();
      expect(await balance(t, maker.id, 'CREDIT', 'earnings')).toBe(0n); // first sale: 30-day hold
      await advance(23 * DAY);
      await runJobs();
      expect(await balance(t, maker.id, 'CREDIT', 'earnings')).toBe(500n);
      expect(await balance(t, maker.id, 'CREDIT', 'earnings_pending')).toBe(0n);

      await buy(await relogin(t, b2), { listingId: second.id }).expect(201); // first sale now 31 days old: 7-day hold
      await advance(6 * DAY);
      await runJobs();
      expect(await balance(t, maker.id, 'CREDIT', 'earnings')).toBe(500n);
      await advance(1 * DAY + 60);
      await runJobs();
      expect(await balance(t, maker.id, 'CREDIT', 'earnings')).toBe(800n);
      const sales = await as(t, await relogin(t, maker))
        .get('/me/sales')
        .expect(200);
      expect(sales.body.items.map((s: { state: string }) => s.state)).toEqual(['matured', 'matured']);
      expect((await verifyLedger(t)).ok).toBe(true);
    });
  });
});

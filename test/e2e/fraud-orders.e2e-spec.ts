import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { OrdersFraudReview1763900016000 } from '../../migrations/1763900016000-OrdersFraudReview';
import { IdempotencyService, IdempotentRequest } from '../../src/common/idempotency/idempotency.service';
import { PG_BOSS_SCHEMA } from '../../src/jobs/jobs.service';
import { dumpSchema, tableOf } from '../schema/schema-dump';
import {
  ageAccount,
  decide,
  entriesWithReference,
  from,
  funds,
  listEntry,
  loginHistory,
  reviewOf,
  sessionDevice,
  signUpFrom,
  uniqueIp,
} from '../support/fraud-fixtures';
import { Actor, as, fund, makeAdmin, publishListing, signUp, signUpCreator, verifyEmail, verifyLedger } from '../support/market-fixtures';
import { TestApp, useTestApp } from '../support/test-app';
import { createTestDatabase } from '../support/test-db';

type Located = Actor & { ip: string };

const reference = (kind: string, userId: string, key: string) => IdempotencyService.reference(kind, { userId, key } as IdempotentRequest);

/** The default rules (migration 1763900014000) on item purchases and credit transfers, and their reviews. */
describe('fraud rules on purchases and credit transfers', () => {
  let t: TestApp, admin: Actor, creator: Actor;

  useTestApp((app) => (t = app), { TRUST_PROXY: 'true' });
  beforeAll(async () => {
    admin = await makeAdmin(t, await signUp(t, 'admin'));
    creator = await signUpCreator(t);
  });
  afterEach(async () => expect(await verifyLedger(t)).toMatchObject({ ok: true }));

  /** A verified sender, 30 days old unless said otherwise, with `credits` in the wallet. */
  async function sender(credits: number, ageDays = 30): Promise<Located> {
    const a = await signUpFrom(t, 'sender');
    await verifyEmail(t, a);
    await ageAccount(t, a.id, ageDays);
    if (credits) await fund(t, a.id, 'CREDIT', credits);
    return a;
  }
  /** A recipient `ageDays` old, with a login from `sharedIp` on record when given. */
  async function recipient(ageDays: number, sharedIp?: string): Promise<Located> {
    const r = await signUpFrom(t, 'recipient');
    await ageAccount(t, r.id, ageDays);
    if (sharedIp) await loginHistory(t, r.id, sharedIp);
    return r;
  }
  const gift = (s: Located, to: Actor, amount: number, opts: { ip?: string; key?: string } = {}) =>
    from(t, s, opts.ip).post('/credit-transfers', { toUserId: to.id, amount }, opts.key);
  const transferRow = async (id: string) =>
    (await t.sql<{ status: string; hold_id: string | null }>(`SELECT status, hold_id FROM credit_transfers WHERE id = $1`, [id]))[0];
  const decisionOf = async (type: string, subjectId: string) =>
    (
      await t.sql<{ outcome: string; matched: string[] }>(
        `SELECT d.outcome, ARRAY(SELECT r.name FROM fraud_rules r WHERE r.id = ANY (d.matched_rule_ids) ORDER BY r.name) AS matched
           FROM fraud_decisions d WHERE d.event_type = $1 AND d.subject_id = $2`,
        [type, subjectId],
      )
    )[0];

  describe('credit transfers', () => {
    it('reviews a gift over 50,000 from an account younger than 7 days (50,000 and 7 days pass)', async () => {
      const to = await recipient(30);
      const young = await sender(200_000, 6.99);
      const at = await gift(young, to, 50_000).expect(201);
      expect(at.body.status).toBe('completed');
      const over = await gift(young, to, 50_001).expect(201);
      expect(over.body).toMatchObject({ id: expect.any(String), status: 'held_for_review' });
      expect(await decisionOf('credit_transfer', over.body.id)).toEqual({ outcome: 'REVIEW', matched: ['large-gift-from-young-account'] });
      expect(await decisionOf('credit_transfer', at.body.id)).toEqual({ outcome: 'ALLOW', matched: [] });
      expect(await funds(t, young.id)).toEqual({ posted: 150_000n, held: 50_001n });
      expect(await funds(t, to.id)).toEqual({ posted: 50_000n, held: 0n });

      const week = await sender(100_000, 7);
      expect((await gift(week, to, 50_001).expect(201)).body.status).toBe('completed');
    });

    it('reviews a gift to an account created in the last 24 h that shares the sender’s IP or device', async () => {
      const s = await sender(100_000);
      const stranger = await recipient(0);
      expect((await gift(s, stranger, 1000).expect(201)).body.status).toBe('completed');
      const dayOld = await recipient(1, s.ip);
      expect((await gift(s, dayOld, 1000).expect(201)).body.status).toBe('completed');

      const linked = await recipient(0.99, s.ip);
      const held = await gift(s, linked, 1000).expect(201);
      expect(held.body.status).toBe('held_for_review');
      expect(await decisionOf('credit_transfer', held.body.id)).toEqual({ outcome: 'REVIEW', matched: ['gift-to-new-linked-account'] });

      // the same device, from addresses never shared
      const s2 = await sender(10_000);
      const sameDevice = await recipient(0);
      await loginHistory(t, sameDevice.id, uniqueIp(), await sessionDevice(t, s2));
      expect((await gift(s2, sameDevice, 1000).expect(201)).body.status).toBe('held_for_review');
    });

    it('refuses a gift from a listed address, user or device (403, nothing moves); an expired entry no longer counts', async () => {
      const to = await recipient(30);
      const s = await sender(10_000);
      const ip = uniqueIp();
      await listEntry(t, 'ip', ip);
      const refused = await gift(s, to, 1000, { ip }).expect(403);
      expect(refused.body).toMatchObject({ code: 'FRAUD_BLOCKED' });
      expect(JSON.stringify(refused.body)).not.toContain('block-listed');
      await listEntry(t, 'user', s.id, new Date(Date.now() - 60_000));
      expect((await gift(s, to, 1000).expect(201)).body.status).toBe('completed');
      const [{ n }] = await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM credit_transfers WHERE from_user_id = $1`, [s.id]);
      expect(n).toBe(1);
      const blocked = await t.sql(`SELECT 1 FROM fraud_decisions WHERE user_id = $1 AND outcome = 'BLOCK' AND ip = $2`, [s.id, ip]);
      expect(blocked).toHaveLength(1);

      const listedUser = await sender(10_000);
      await listEntry(t, 'user', listedUser.id);
      expect((await gift(listedUser, to, 1000).expect(403)).body.code).toBe('FRAUD_BLOCKED');
      // limits come before the fraud rules, funds after them
      expect((await gift(listedUser, to, t.config.economy.creditGiftMax + 1).expect(409)).body.code).toBe('LIMIT_EXCEEDED');
      expect((await gift(listedUser, to, 20_000).expect(403)).body.code).toBe('FRAUD_BLOCKED');
      const listedDevice = await sender(10_000);
      await listEntry(t, 'device', await sessionDevice(t, listedDevice));
      expect((await gift(listedDevice, to, 1000).expect(403)).body.code).toBe('FRAUD_BLOCKED');
      expect(await funds(t, listedUser.id)).toEqual({ posted: 10_000n, held: 0n });
      expect(await funds(t, to.id)).toEqual({ posted: 1000n, held: 0n });
    });

    it('holds the amount until approved: not spendable meanwhile; approval posts the gift entry once; replays answer the held response', async () => {
      const to = await recipient(30);
      const s = await sender(60_000, 1);
      const key = randomUUID();
      const held = await gift(s, to, 60_000, { key }).expect(201);
      expect(held.body.status).toBe('held_for_review');
      expect((await gift(s, to, 100).expect(409)).body.code).toBe('INSUFFICIENT_FUNDS');
      const ref = reference('credit_transfer', s.id, key);
      expect(await entriesWithReference(t, ref)).toEqual([]);

      const review = await decide(t, admin, 'credit_transfer', held.body.id, 'approve');
      expect(review).toMatchObject({ status: 'approved', decidedBy: admin.id });
      expect(await transferRow(held.body.id)).toMatchObject({ status: 'completed' });
      expect(await funds(t, s.id)).toEqual({ posted: 0n, held: 0n });
      expect(await funds(t, to.id)).toEqual({ posted: 60_000n, held: 0n });
      expect(await entriesWithReference(t, ref)).toEqual([{ kind: 'gift' }]);
      const again = await gift(s, to, 60_000, { key }).expect(201);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body).toEqual(held.body);
      await expect(decide(t, admin, 'credit_transfer', held.body.id, 'reject')).rejects.toMatchObject({ code: 'INVALID_STATE' });
      const [audit] = await t.sql(`SELECT actor_id, reason FROM audit_log WHERE action = 'fraud.review_approved' AND subject_id = $1`, [
        review.id,
      ]);
      expect(audit).toEqual({ actor_id: admin.id, reason: 'approved in a test' });
    });

    it('releases the amount when rejected, nothing else moves; held gifts count toward the 30-day cap until rejected', async () => {
      const to = await recipient(30);
      const s = await sender(600_000, 1);
      const held = await Promise.all(Array.from({ length: 5 }, () => gift(s, to, 100_000)));
      expect(held.map((r) => [r.status, r.body.status])).toEqual(Array(5).fill([201, 'held_for_review']));
      expect(await funds(t, s.id)).toEqual({ posted: 600_000n, held: 500_000n });
      expect((await gift(s, to, 100).expect(409)).body).toMatchObject({ code: 'LIMIT_EXCEEDED', limit: '30d' });

      await decide(t, admin, 'credit_transfer', held[0].body.id, 'reject');
      expect(await transferRow(held[0].body.id)).toMatchObject({ status: 'rejected' });
      expect(await funds(t, s.id)).toEqual({ posted: 600_000n, held: 400_000n });
      expect(await funds(t, to.id)).toEqual({ posted: 0n, held: 0n });
      expect((await gift(s, to, 100_000).expect(201)).body.status).toBe('held_for_review');
    });

    it('decides one review once when an approval and a rejection race', async () => {
      const to = await recipient(30);
      const s = await sender(60_000, 1);
      const held = await gift(s, to, 60_000).expect(201);
      const results = await Promise.allSettled([
        decide(t, admin, 'credit_transfer', held.body.id, 'approve'),
        decide(t, admin, 'credit_transfer', held.body.id, 'reject'),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: 'INVALID_STATE' } });
      const approved = (await reviewOf(t, 'credit_transfer', held.body.id)).status === 'approved';
      expect(await transferRow(held.body.id)).toMatchObject({ status: approved ? 'completed' : 'rejected' });
      expect(await funds(t, s.id)).toEqual({ posted: approved ? 0n : 60_000n, held: 0n });
      expect(await funds(t, to.id)).toEqual({ posted: approved ? 60_000n : 0n, held: 0n });
    });
  });

  describe('item purchases', () => {
    let item: { id: string; price: number; profit: number; platformFee: number };
    beforeAll(async () => {
      item = await publishListing(t, creator, admin, { profit: 1000 });
    });

    const buy = (b: Located, body: object, opts: { ip?: string; key?: string } = {}) =>
      from(t, b, opts.ip).post('/orders', { listingId: item.id, ...body }, opts.key);
    const orderRow = async (id: string) =>
      (
        await t.sql<{ status: string; holds: number }>(
          `SELECT status, cardinality(review_hold_ids)::int AS holds FROM orders WHERE id = $1`,
          [id],
        )
      )[0];
    const owns = async (ownerId: string, listingId = item.id) =>
      (await t.sql(`SELECT 1 FROM inventory WHERE owner_id = $1 AND listing_id = $2 AND revoked_at IS NULL`, [ownerId, listingId]))
        .length === 1;
    const earningLines = async (orderId: string) =>
      (await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM sale_earnings WHERE order_id = $1`, [orderId]))[0].n;
    /** A gift purchase the default rules review: the recipient is new and logged in from the buyer's address. */
    async function heldGift(buyer: Located, key = randomUUID(), listing = item) {
      const to = await recipient(0, buyer.ip);
      const res = await from(t, buyer).post('/orders', { listingId: listing.id, giftToUserId: to.id }, key).expect(201);
      expect(res.body).toMatchObject({ status: 'held_for_review', ownerId: to.id });
      return { to, order: res.body as { id: string; status: string }, key };
    }

    it('holds a reviewed gift: price held from wallet then earnings, item not owned, no earnings; not spendable meanwhile', async () => {
      const b = await sender(0);
      await fund(t, b.id, 'CREDIT', item.price - 300);
      await fund(t, b.id, 'CREDIT', 300, 'earnings');
      const pendingBefore = await funds(t, creator.id, 'CREDIT', 'earnings_pending');
      const { to, order } = await heldGift(b);
      expect(await decisionOf('item_purchase', order.id)).toEqual({ outcome: 'REVIEW', matched: ['gift-to-new-linked-account'] });
      expect(await orderRow(order.id)).toEqual({ status: 'held_for_review', holds: 2 });
      expect(await owns(to.id)).toBe(false);
      expect(await earningLines(order.id)).toBe(0);
      expect(await funds(t, b.id)).toEqual({ posted: BigInt(item.price - 300), held: BigInt(item.price - 300) });
      expect(await funds(t, b.id, 'CREDIT', 'earnings')).toEqual({ posted: 300n, held: 300n });
      expect(await funds(t, creator.id, 'CREDIT', 'earnings_pending')).toEqual(pendingBefore);

      const other = await publishListing(t, creator, admin, { profit: 10 });
      expect((await buy(b, { listingId: other.id }).expect(409)).body.code).toBe('INSUFFICIENT_FUNDS');
      const inventory = await from(t, to).get('/me/inventory').expect(200);
      expect(inventory.body.items).toEqual([]);
    });

    it('completes an approved sale as an allowed one would: one purchase entry under the order’s reference, ownership, earnings', async () => {
      const b = await sender(0);
      await fund(t, b.id, 'CREDIT', item.price - 300);
      await fund(t, b.id, 'CREDIT', 300, 'earnings');
      const pendingBefore = (await funds(t, creator.id, 'CREDIT', 'earnings_pending')).posted;
      const { to, order, key } = await heldGift(b);
      await decide(t, admin, 'item_purchase', order.id, 'approve');

      expect(await orderRow(order.id)).toMatchObject({ status: 'completed' });
      expect(await owns(to.id)).toBe(true);
      expect(await earningLines(order.id)).toBe(1);
      expect(await funds(t, b.id)).toEqual({ posted: 0n, held: 0n });
      expect(await funds(t, b.id, 'CREDIT', 'earnings')).toEqual({ posted: 0n, held: 0n });
      expect((await funds(t, creator.id, 'CREDIT', 'earnings_pending')).posted).toBe(pendingBefore + BigInt(item.profit));
      expect(await entriesWithReference(t, reference('order', b.id, key))).toEqual([{ kind: 'purchase' }]);
      const [paid] = await t.sql<{ paid_from: object }>(`SELECT paid_from FROM orders WHERE id = $1`, [order.id]);
      expect(paid.paid_from).toEqual({ wallet: String(item.price - 300), earnings: '300' });

      const replay = await buy(b, { giftToUserId: to.id }, { key }).expect(201);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.body).toEqual(order);
      const mine = await from(t, b).get('/me/orders').expect(200);
      expect(mine.body.items[0]).toMatchObject({ id: order.id, status: 'completed' });
    });

    it('rejected: the holds are voided, the order rejected, nothing else moves', async () => {
      const b = await sender(item.price);
      const { to, order } = await heldGift(b);
      await decide(t, admin, 'item_purchase', order.id, 'reject');
      expect(await orderRow(order.id)).toMatchObject({ status: 'rejected' });
      expect(await owns(to.id)).toBe(false);
      expect(await earningLines(order.id)).toBe(0);
      expect(await funds(t, b.id)).toEqual({ posted: BigInt(item.price), held: 0n });
      // the funds are spendable again
      expect((await buy(b, {}).expect(201)).body.status).toBe('completed');
    });

    it('approved after the recipient got the item otherwise: cancelled, the holds voided, nothing moves', async () => {
      const b = await sender(item.price);
      const { to, order } = await heldGift(b);
      await fund(t, to.id, 'CREDIT', item.price);
      await from(t, to).post('/orders', { listingId: item.id }).expect(201);
      await decide(t, admin, 'item_purchase', order.id, 'approve');
      expect(await orderRow(order.id)).toMatchObject({ status: 'cancelled' });
      expect(await funds(t, b.id)).toEqual({ posted: BigInt(item.price), held: 0n });
      expect(await earningLines(order.id)).toBe(0);
      expect((await reviewOf(t, 'item_purchase', order.id)).status).toBe('approved');
    });

    it('approved after the listing was delisted: the sale completes at the price the order fixed', async () => {
      const listing = await publishListing(t, creator, admin, { profit: 500 });
      const b = await sender(listing.price);
      const { to, order } = await heldGift(b, randomUUID(), listing);
      await as(t, admin)
        .post(`/admin/listings/${listing.id}/delist`, { reason: 'test' })
        .expect((r) => expect(r.status).toBeLessThan(300));
      await decide(t, admin, 'item_purchase', order.id, 'approve');
      expect(await orderRow(order.id)).toMatchObject({ status: 'completed' });
      expect(await owns(to.id, listing.id)).toBe(true);
      expect(await funds(t, b.id)).toEqual({ posted: 0n, held: 0n });
    });

    it('decides one review once when an approval and a rejection race', async () => {
      const b = await sender(item.price);
      const { to, order } = await heldGift(b);
      const results = await Promise.allSettled([
        decide(t, admin, 'item_purchase', order.id, 'approve'),
        decide(t, admin, 'item_purchase', order.id, 'reject'),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: 'INVALID_STATE' } });
      const approved = (await reviewOf(t, 'item_purchase', order.id)).status === 'approved';
      expect(await orderRow(order.id)).toMatchObject({ status: approved ? 'completed' : 'rejected' });
      expect(await owns(to.id)).toBe(approved);
      expect(await funds(t, b.id)).toEqual({ posted: approved ? 0n : BigInt(item.price), held: 0n });
    });

    it('in one batch: a blocked buyer gets 403, a held gift without the funds 409 and no review, the others buy', async () => {
      const buyers = await Promise.all(Array.from({ length: 6 }, () => sender(item.price)));
      await listEntry(t, 'user', buyers[0].id);
      const poor = await sender(item.price - 1);
      const to = await recipient(0, poor.ip);
      const results = await Promise.all([...buyers.map((b) => buy(b, {})), buy(poor, { giftToUserId: to.id })]);
      expect(results.map((r) => r.status)).toEqual([403, 201, 201, 201, 201, 201, 409]);
      expect(results[0].body.code).toBe('FRAUD_BLOCKED');
      expect(results[6].body.code).toBe('INSUFFICIENT_FUNDS');
      expect(await t.sql(`SELECT 1 FROM fraud_reviews WHERE user_id = $1`, [poor.id])).toEqual([]);
      expect(await funds(t, buyers[0].id)).toEqual({ posted: BigInt(item.price), held: 0n });
      expect(await owns(buyers[0].id)).toBe(false);
      for (const b of buyers.slice(1)) expect(await owns(b.id)).toBe(true);
      // the fraud rules answer before the funds
      const broke = await sender(0);
      await listEntry(t, 'ip', broke.ip);
      expect((await buy(broke, {}).expect(403)).body.code).toBe('FRAUD_BLOCKED');
    });
  });
});

describe('migration 1763900016000 (orders held for review)', () => {
  it('goes down to the schema before it and up again', async () => {
    const db = await createTestDatabase();
    const ds = new DataSource({ type: 'postgres', url: db.url, extra: { max: 1 } });
    await ds.initialize();
    const qr = ds.createQueryRunner();
    try {
      const migration = new OrdersFraudReview1763900016000();
      const up = await dumpSchema(db.url, [PG_BOSS_SCHEMA]);
      await migration.down(qr);
      const down = await dumpSchema(db.url, [PG_BOSS_SCHEMA]);
      expect(tableOf(down, 'orders')).not.toContain('review_hold_ids');
      expect(tableOf(down, 'credit_transfers')).not.toContain('hold_id');
      expect(down).not.toContain('completed>refunded,held_for_review>completed');
      expect(down).toContain(`orders_status_check CHECK ((status = ANY (ARRAY['completed'::text, 'refunded'::text])))`);
      await migration.up(qr);
      expect(await dumpSchema(db.url, [PG_BOSS_SCHEMA])).toBe(up);
    } finally {
      await qr.release();
      await ds.destroy();
      await db.drop();
    }
  });
});

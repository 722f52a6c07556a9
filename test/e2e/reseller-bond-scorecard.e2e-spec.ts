import { randomUUID } from 'node:crypto';
import { trustScore } from '../../src/resellers/scorecard/trust-score.policy';
import { lastMail, strongPassword } from '../support/auth';
import { Actor, as, balance, fund, login, makeAdmin, signUp } from '../support/market-fixtures';
import { advanceClock, APPLICATION } from '../support/reseller-fixtures';
import { expectStockAccountedFor } from '../support/reseller-order-fixtures';
import { ResellerPool, useResellerSuite } from '../support/reseller-pool';
import { allPages } from '../support/pages';
import { TestApp } from '../support/test-app';

const HOUR = 3600;
const DAY = 24 * HOUR;

describe('reseller bond, scorecard and directory', () => {
  let t: TestApp, admin: Actor, bond: number, pool: ResellerPool;

  useResellerSuite((s) => ({ t, pool } = s), { ready: 9, fresh: 1 });
  beforeAll(async () => {
    admin = await makeAdmin(t, await signUp(t, 'admin'));
    bond = t.config.resellers.bondCredits;
  });

  /** Moves the business clock and gives the actors (and the admin) fresh tokens: access tokens last 15 minutes. */
  const advance = (seconds: number, ...actors: Actor[]) => advanceClock(t, seconds, admin, ...actors);
  const open = (b: Actor, r: Actor, amount: number) => as(t, b).post('/reseller-orders', { resellerId: r.id, amount }).expect(201);
  const step = (a: Actor, id: string, action: string, body: object = {}) =>
    as(t, a).post(`/reseller-orders/${id}/${action}`, body).expect(200);
  const paid = (b: Actor, id: string) => step(b, id, 'mark-paid', { paymentReference: 'ref-1' });
  const resolve = (id: string, outcome: 'buyer' | 'reseller') =>
    as(t, admin).post(`/admin/reseller-orders/${id}/resolve`, { outcome, note: 'decided' }).expect(200);
  const lockBond = (r: Actor, key?: string) => as(t, r).post('/reseller/bond', {}, key);
  const release = (r: Actor, key?: string) => as(t, r).post('/reseller/bond/release', {}, key);

  describe('bond', () => {
    it('locks what is missing from the wallet, then earnings; a second lock moves nothing', async () => {
      const r = await pool.take({ bond: false });
      await fund(t, r.id, 'CREDIT', bond - 30_000);
      await fund(t, r.id, 'CREDIT', 50_000, 'earnings');
      const key = randomUUID();
      expect((await lockBond(r, key).expect(200)).body).toEqual({ bond, required: bond, moved: bond });
      expect((await lockBond(r, key).expect(200)).headers['idempotent-replayed']).toBe('true');
      expect(await balance(t, r.id, 'CREDIT')).toBe(0n);
      expect(await balance(t, r.id, 'CREDIT', 'earnings')).toBe(20_000n);
      expect((await lockBond(r).expect(200)).body).toEqual({ bond, required: bond, moved: 0 });
      expect(await balance(t, r.id, 'CREDIT', 'bond')).toBe(BigInt(bond));
    });

    it('refuses without the funds, and for someone who is not a reseller', async () => {
      const r = await pool.take({ bond: false });
      await fund(t, r.id, 'CREDIT', bond - 1);
      expect((await lockBond(r).expect(409)).body.code).toBe('INSUFFICIENT_FUNDS');
      expect(await balance(t, r.id, 'CREDIT', 'bond')).toBe(0n);
      const user = await signUp(t, 'user');
      expect((await lockBond(user).expect(403)).body.code).toBe('FORBIDDEN');
      expect((await release(user).expect(403)).body).toMatchObject({ code: 'FORBIDDEN', reason: 'NOT_A_RESELLER' });
    });

    it('concurrent locks fill the bond exactly once', async () => {
      const r = await pool.take({ bond: false });
      await fund(t, r.id, 'CREDIT', 3 * bond);
      const results = await Promise.all(Array.from({ length: 8 }, () => lockBond(r)));
      expect(results.map((res) => res.status)).toEqual(Array(8).fill(200));
      expect(results.map((res) => res.body.moved).reduce((a: number, b: number) => a + b, 0)).toBe(bond);
      expect(await balance(t, r.id, 'CREDIT', 'bond')).toBe(BigInt(bond));
      expect(await balance(t, r.id, 'CREDIT')).toBe(BigInt(2 * bond));
    });

    it('is released only with no binding order, after the dispute window and the quiet period', async () => {
      const r = await pool.take();
      const b = await signUp(t, 'buyer');
      const id = (await open(b, r, 5_000)).body.id;
      expect((await release(r).expect(409)).body).toMatchObject({ code: 'CONFLICT', reason: 'orders_open', orders: 1 });
      await step(r, id, 'confirm');
      expect((await release(r).expect(409)).body).toMatchObject({ reason: 'dispute_window_open' });
      expect((await as(t, r).get('/reseller/bond').expect(200)).body).toEqual({
        bond,
        required: bond,
        releaseRefusal: 'dispute_window_open',
      });
      await advance(t.config.resellers.disputeWindowHours * HOUR, r, b);
      expect((await release(r).expect(409)).body).toMatchObject({ reason: 'last_order_too_recent', releasableAt: expect.any(String) });
      await advance(t.config.resellers.bondReleaseQuietDays * DAY, r, b);
      const key = randomUUID();
      expect((await release(r, key).expect(200)).body).toEqual({ bond: 0, required: bond, moved: bond });
      expect((await release(r, key).expect(200)).headers['idempotent-replayed']).toBe('true');
      expect(await balance(t, r.id, 'CREDIT')).toBe(BigInt(bond));
      expect((await release(r).expect(409)).body).toMatchObject({ reason: 'no_bond' });
      expect((await as(t, b).post('/reseller-orders', { resellerId: r.id, amount: 1_000 }).expect(409)).body).toMatchObject({
        reason: 'bond_missing',
      });
      await expectStockAccountedFor(t, r.id);
    });

    it('is not released during a cooling period (423)', async () => {
      let r = await pool.take();
      await t.http().post('/auth/password/reset-request').send({ email: r.email }).expect(202);
      const { token } = (await lastMail(t, r.email, 'password_reset'))!.data;
      const newPassword = strongPassword();
      await t.http().post('/auth/password/reset').send({ token, newPassword }).expect(204);
      r = { ...r, password: newPassword, token: (await login(t, r.email, newPassword, r.deviceToken)).accessToken };
      expect((await release(r).expect(423)).body).toMatchObject({ code: 'COOLING_PERIOD_ACTIVE', action: 'bond_release' });
      expect(await balance(t, r.id, 'CREDIT', 'bond')).toBe(BigInt(bond));
    });
  });

  describe('scorecard', () => {
    it('counts a seeded history exactly and computes the trust score from it', async () => {
      const r = await pool.take();
      const other = await pool.take();
      const buyers = await Promise.all([1, 2, 3].map(() => signUp(t, 'buyer')));
      const [b1, b2, b3] = buyers;
      const fresh = (await as(t, r).get('/reseller/scorecard').expect(200)).body;
      expect(fresh).toMatchObject({ orders: 0, completionRate: null, medianConfirmSeconds: null, trustScore: 50 });

      const o1 = (await open(b1, r, 1_000)).body.id;
      const o2 = (await open(b2, r, 1_000)).body.id;
      const o3 = (await open(b3, r, 1_000)).body.id;
      await paid(b1, o1);
      await paid(b2, o2);
      await paid(b3, o3);
      await advance(HOUR, r, ...buyers);
      await step(r, o1, 'confirm');
      await advance(2 * HOUR, r, ...buyers);
      await step(r, o2, 'confirm');
      await step(b3, o3, 'dispute', { reason: 'nothing came' });
      await resolve(o3, 'buyer');
      // A loss in 3 orders crosses the loss rate: suspended at once; reinstated to go on with the history.
      expect((await as(t, admin).get(`/admin/resellers/${r.id}`).expect(200)).body).toMatchObject({
        status: 'suspended',
        statusChangedBy: null,
        statusReason: 'automatic: 1 of 3 orders lost in disputes in 30 days',
      });
      await as(t, admin).post(`/admin/resellers/${r.id}/reinstate`, { note: 'looked at it: a single loss' }).expect(200);
      const o4 = (await open(b1, r, 1_000)).body.id;
      await step(r, o4, 'cancel', { reason: 'cannot serve this region' });
      const o5 = (await open(b2, r, 1_000)).body.id;
      await step(b2, o5, 'cancel');
      const o7 = (await open(b3, r, 1_000)).body.id;
      await paid(b3, o7);
      await step(b3, o7, 'dispute', { reason: 'nothing came' });
      await resolve(o7, 'reseller');
      await open(b1, r, 1_000);
      await open(b1, other, 1_000);
      await advance(25 * HOUR, r, ...buyers);
      await t.http().post('/dev/jobs/run').expect(200);

      const inputs = { orders: 7, paid: 4, confirmed: 2, disputes: 2, disputesLost: 1, cancelledByReseller: 1 };
      // the business clock keeps running between requests: the confirm times are read back, each about 1 h and 3 h
      const times = await t.sql<{ s: number }>(
        `SELECT extract(epoch FROM confirmed_at - paid_at)::float8 AS s FROM reseller_orders WHERE id = ANY($1) ORDER BY 1`,
        [[o1, o2]],
      );
      expect(times[0].s).toBeGreaterThanOrEqual(HOUR);
      expect(times[1].s).toBeGreaterThanOrEqual(3 * HOUR);
      const card = (await as(t, r).get('/reseller/scorecard').expect(200)).body;
      expect(card).toEqual({
        resellerId: r.id,
        windowDays: 30,
        from: expect.any(String),
        to: expect.any(String),
        orders: 7,
        paid: 4,
        confirmed: 2,
        completionRate: 0.5,
        medianConfirmSeconds: Math.round((times[0].s + times[1].s) / 2),
        disputes: 2,
        disputeRate: 2 / 7,
        disputesLost: 1,
        disputesWon: 1,
        lossRate: 1 / 7,
        cancellations: { byReseller: 1, byBuyer: 1 },
        expiries: 1,
        trustScore: trustScore(inputs),
      });
      expect(card.trustScore).toBe(31);
      expect((await as(t, admin).get(`/admin/resellers/${r.id}/scorecard`).expect(200)).body).toEqual({
        ...card,
        from: expect.any(String),
        to: expect.any(String),
      });
      expect((await as(t, admin).get(`/admin/resellers/${b1.id}/scorecard`).expect(404)).body.code).toBe('NOT_FOUND');
      expect((await as(t, b1).get('/reseller/scorecard').expect(403)).body.code).toBe('FORBIDDEN');

      await advance(30 * DAY, r);
      expect((await as(t, r).get('/reseller/scorecard').expect(200)).body).toMatchObject({ orders: 0, trustScore: 50 });
      await expectStockAccountedFor(t, r.id);
    });
  });

  describe('directory (GET /resellers)', () => {
    it('lists active resellers only, publicly, paginated, with whether each takes orders', async () => {
      const active = await pool.take({ displayName: 'Active Shop', probation: true });
      const noBond = await pool.take({ bond: false });
      const suspended = await pool.take();
      await as(t, admin).post(`/admin/resellers/${suspended.id}/suspend`, { note: 'suspended by the test' }).expect(200);
      const all = (await t.http().get('/resellers?limit=200').expect(200)).body;
      const ids = all.items.map((e: { id: string }) => e.id);
      const activeIds = (await as(t, admin).get('/admin/resellers?status=active&limit=200').expect(200)).body.items.map(
        (e: { id: string }) => e.id,
      );
      expect(ids).toEqual(activeIds);
      expect(ids).toEqual(expect.arrayContaining([active.id, noBond.id]));
      expect(ids).not.toContain(suspended.id);
      expect(all.items.find((e: { id: string }) => e.id === active.id)).toEqual({
        id: active.id,
        displayName: 'Active Shop',
        regions: APPLICATION.regions,
        paymentMethods: APPLICATION.paymentMethods,
        trustScore: 50,
        status: 'active',
        takingOrders: true,
        probation: true,
      });
      expect(all.items.find((e: { id: string }) => e.id === noBond.id)).toMatchObject({ takingOrders: false });

      const seen = (await allPages<{ id: string }>((u) => t.http().get(u), '/resellers', 2)).flat().map((e) => e.id);
      expect(seen).toEqual(ids);
      expect((await t.http().get('/resellers?cursor=bad').expect(400)).body.code).toBe('VALIDATION_FAILED');
    });
  });
});

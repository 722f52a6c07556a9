import { randomUUID } from 'node:crypto';
import { lastMail, strongPassword } from '../support/auth';
import { Actor, as, balance, bulkBuyers, fund, ledger, login, makeAdmin, signUp } from '../support/market-fixtures';
import { advanceClock } from '../support/reseller-fixtures';
import { expectStockAccountedFor } from '../support/reseller-order-fixtures';
import { ResellerPool, useResellerSuite } from '../support/reseller-pool';
import { TestApp } from '../support/test-app';

const HOUR = 3600;

describe('reseller orders (escrow)', () => {
  let t: TestApp, admin: Actor, pool: ResellerPool;

  useResellerSuite((s) => ({ t, pool } = s), { ready: 24, overdue: 1, fresh: 3 });
  beforeAll(async () => {
    admin = await makeAdmin(t, await signUp(t, 'admin'));
  });

  /** Moves the business clock and gives the actors (and the admin) fresh tokens: access tokens last 15 minutes. */
  const advance = (seconds: number, ...actors: Actor[]) => advanceClock(t, seconds, admin, ...actors);
  const runJobs = () => t.http().post('/dev/jobs/run').expect(200);
  const open = (b: Actor, r: Actor, amount: number, key?: string) => as(t, b).post('/reseller-orders', { resellerId: r.id, amount }, key);
  const markPaid = (b: Actor, id: string) => as(t, b).post(`/reseller-orders/${id}/mark-paid`, { paymentReference: 'bank transfer 4711' });
  const confirm = (r: Actor, id: string, key?: string) => as(t, r).post(`/reseller-orders/${id}/confirm`, {}, key);
  const cancel = (a: Actor, id: string, body: object = {}, key?: string) => as(t, a).post(`/reseller-orders/${id}/cancel`, body, key);
  const dispute = (b: Actor, id: string) => as(t, b).post(`/reseller-orders/${id}/dispute`, { reason: 'I paid and got nothing' });
  const resolve = (id: string, outcome: 'buyer' | 'reseller', key?: string) =>
    as(t, admin).post(`/admin/reseller-orders/${id}/resolve`, { outcome, note: `decided for the ${outcome}` }, key);
  const order = async (a: Actor, id: string) => (await as(t, a).get(`/reseller-orders/${id}`).expect(200)).body;
  const reseller = async (r: Actor) => (await as(t, admin).get(`/admin/resellers/${r.id}`).expect(200)).body;
  const statusChange = (r: Actor, action: 'suspend' | 'reinstate') =>
    as(t, admin)
      .post(`/admin/resellers/${r.id}/${action}`, { note: `${action}d by the test` })
      .expect(200);
  const reinstate = (r: Actor) => statusChange(r, 'reinstate');
  const stock = (r: Actor) => balance(t, r.id, 'CREDIT', 'reseller_stock');
  const code = async (req: PromiseLike<{ status: number; body: { code?: string; reason?: string } }>, status: number) => {
    const res = await req;
    expect(res.status).toBe(status);
    return res.body.code;
  };

  describe('journeys', () => {
    it('a buyer pays, the reseller never confirms: a dispute after 24 h, resolved to the buyer from escrow', async () => {
      const r = await pool.take();
      const b = await signUp(t, 'buyer');
      const opened = await open(b, r, 10_000).expect(201);
      expect(opened.body).toMatchObject({ id: expect.any(String), status: 'open', amount: 10_000, resellerId: r.id, buyerId: b.id });
      const id = opened.body.id;
      expect(await stock(r)).toBe(490_000n);
      expect((await markPaid(b, id).expect(200)).body).toMatchObject({ status: 'paid', paymentReference: 'bank transfer 4711' });

      await advance(23 * HOUR, r, b);
      await runJobs();
      expect((await order(b, id)).status).toBe('paid');
      await advance(HOUR + 1, r, b);
      await runJobs();
      expect(await order(b, id)).toMatchObject({ status: 'disputed', disputeOpenedBy: 'system' });
      const listed = await as(t, admin).get(`/admin/reseller-orders?status=disputed&resellerId=${r.id}`).expect(200);
      expect(listed.body.items.map((o: { id: string }) => o.id)).toEqual([id]);

      const resolved = await resolve(id, 'buyer').expect(200);
      expect(resolved.body).toMatchObject({ status: 'resolved_buyer', bondPaid: 0, resolutionNote: 'decided for the buyer' });
      expect(await balance(t, b.id, 'CREDIT')).toBe(10_000n);
      expect(await stock(r)).toBe(490_000n);
      expect(await balance(t, r.id, 'CREDIT', 'bond')).toBe(BigInt(t.config.resellers.bondCredits));

      const history = (await order(r, id)).history;
      expect(
        history.map((e: { fromStatus: string | null; toStatus: string; actorRole: string }) => [e.fromStatus, e.toStatus, e.actorRole]),
      ).toEqual([
        [null, 'open', 'buyer'],
        ['open', 'paid', 'buyer'],
        ['paid', 'disputed', 'system'],
        ['disputed', 'resolved_buyer', 'admin'],
      ]);
      for (const who of [b, r]) expect(await lastMail(t, who.email, 'reseller_order.resolved_buyer')).toBeDefined();
      for (const who of [b, r]) expect(await lastMail(t, who.email, 'reseller_order.disputed')).toBeDefined();
      const audit = await t.sql(`SELECT action, actor_id, reason FROM audit_log WHERE subject_id = $1`, [id]);
      expect(audit).toEqual([{ action: 'reseller_order.resolved', actor_id: admin.id, reason: 'decided for the buyer' }]);
      const labels = await t.sql(`SELECT kind FROM fraud_labels WHERE user_id = $1`, [r.id]);
      expect(labels).toEqual([{ kind: 'dispute_lost' }]);
      await expectStockAccountedFor(t, r.id);
    });

    it('a buyer who claims a payment falsely: the dispute resolved to the reseller returns the stock', async () => {
      const r = await pool.take();
      const b = await signUp(t, 'buyer');
      const id = (await open(b, r, 20_000).expect(201)).body.id;
      await markPaid(b, id).expect(200);
      expect((await dispute(b, id).expect(200)).body).toMatchObject({
        status: 'disputed',
        disputeOpenedBy: 'buyer',
        disputeReason: 'I paid and got nothing',
      });
      expect((await resolve(id, 'reseller').expect(200)).body).toMatchObject({ status: 'resolved_reseller' });
      expect(await stock(r)).toBe(500_000n);
      expect(await balance(t, b.id, 'CREDIT')).toBe(0n);
      expect(await code(resolve(id, 'buyer'), 409)).toBe('INVALID_STATE');
      await expectStockAccountedFor(t, r.id);
    });

    it('confirmed, then disputed within the window and resolved to the buyer: paid from the bond, the rest as debt', async () => {
      const r = await pool.take();
      const b = await signUp(t, 'buyer');
      const bond = BigInt(t.config.resellers.bondCredits);
      const small = (await open(b, r, 10_000).expect(201)).body.id;
      await markPaid(b, small).expect(200);
      expect((await confirm(r, small).expect(200)).body).toMatchObject({ status: 'confirmed', confirmedAt: expect.any(String) });
      expect(await balance(t, b.id, 'CREDIT')).toBe(10_000n);
      await dispute(b, small).expect(200);
      expect((await resolve(small, 'buyer').expect(200)).body).toMatchObject({ status: 'resolved_buyer', bondPaid: 10_000, debtAdded: 0 });
      expect(await balance(t, b.id, 'CREDIT')).toBe(20_000n);
      expect(await balance(t, r.id, 'CREDIT', 'bond')).toBe(bond - 10_000n);
      // One loss in one order crosses the loss rate: suspended at once; an admin looks and reinstates.
      expect(await reseller(r)).toMatchObject({
        status: 'suspended',
        statusChangedBy: null,
        statusReason: 'automatic: 1 of 1 orders lost in disputes in 30 days',
      });
      expect((await open(b, r, 150_000).expect(409)).body).toMatchObject({ reason: 'not_active' });
      await reinstate(r);

      expect((await open(b, r, 150_000).expect(409)).body).toMatchObject({ reason: 'bond_missing' });
      await fund(t, r.id, 'CREDIT', 10_000);
      expect((await as(t, r).post('/reseller/bond').expect(200)).body).toMatchObject({ bond: Number(bond), moved: 10_000 });
      const large = (await open(b, r, 150_000).expect(201)).body.id;
      await confirm(r, large).expect(200);
      await dispute(b, large).expect(200);
      expect((await resolve(large, 'buyer').expect(200)).body).toMatchObject({ bondPaid: 100_000, debtAdded: 50_000 });
      expect(await balance(t, r.id, 'CREDIT', 'bond')).toBe(0n);
      expect(await ledger(t).owed(r.id)).toBe(50_000n);
      expect(await balance(t, b.id, 'CREDIT')).toBe(20_000n + 300_000n);
      expect(await reseller(r)).toMatchObject({
        status: 'suspended',
        statusReason: 'automatic: 2 of 2 orders lost in disputes in 30 days',
      });
      await expectStockAccountedFor(t, r.id);
    });

    it('refuses a dispute of a confirmed order after the window, and a second dispute', async () => {
      const r = await pool.take();
      const b = await signUp(t, 'buyer');
      const late = (await open(b, r, 5_000).expect(201)).body.id;
      const twice = (await open(b, r, 5_000).expect(201)).body.id;
      await confirm(r, late).expect(200);
      await markPaid(b, twice).expect(200);
      await dispute(b, twice).expect(200);
      await confirm(r, twice).expect(200);
      const second = await dispute(b, twice).expect(409);
      expect(second.body).toMatchObject({ code: 'INVALID_STATE', reason: 'already_disputed' });
      await advance(t.config.resellers.disputeWindowHours * HOUR, r, b);
      expect((await dispute(b, late).expect(409)).body).toMatchObject({ code: 'INVALID_STATE', reason: 'dispute_window_closed' });
      await expectStockAccountedFor(t, r.id);
    });

    it('an unpaid order expires after 24 h and its credits go back to stock', async () => {
      const r = await pool.take();
      const b = await signUp(t, 'buyer');
      const id = (await open(b, r, 30_000).expect(201)).body.id;
      await advance(24 * HOUR + 1, r, b);
      expect(await code(markPaid(b, id), 409)).toBe('INVALID_STATE');
      await runJobs();
      expect((await order(b, id)).status).toBe('expired');
      expect(await stock(r)).toBe(500_000n);
      await runJobs();
      expect(await stock(r)).toBe(500_000n);
      expect(await lastMail(t, b.email, 'reseller_order.expired')).toBeDefined();
      await expectStockAccountedFor(t, r.id);
    });

    it('the reseller cancels before it is paid, with a reason; the buyer cancels before paying', async () => {
      const r = await pool.take();
      const b = await signUp(t, 'buyer');
      const first = (await open(b, r, 10_000).expect(201)).body.id;
      expect(await code(cancel(r, first), 400)).toBe('VALIDATION_FAILED');
      expect((await cancel(r, first, { reason: 'out of office' }).expect(200)).body).toMatchObject({
        status: 'cancelled',
        cancelledBy: 'reseller',
        cancelReason: 'out of office',
      });
      const second = (await open(b, r, 10_000).expect(201)).body.id;
      expect((await cancel(b, second).expect(200)).body).toMatchObject({ status: 'cancelled', cancelledBy: 'buyer' });
      const paid = (await open(b, r, 10_000).expect(201)).body.id;
      await markPaid(b, paid).expect(200);
      expect(await code(cancel(r, paid, { reason: 'changed my mind' }), 409)).toBe('INVALID_STATE');
      expect(await code(cancel(b, paid), 409)).toBe('INVALID_STATE');
      expect(await stock(r)).toBe(490_000n);
      await expectStockAccountedFor(t, r.id);
    });
  });

  describe('confirmation guards', () => {
    it('a reseller whose password was just reset cannot confirm (423 COOLING_PERIOD_ACTIVE)', async () => {
      let r = await pool.take();
      const b = await signUp(t, 'buyer');
      const id = (await open(b, r, 10_000).expect(201)).body.id;
      await markPaid(b, id).expect(200);
      await t.http().post('/auth/password/reset-request').send({ email: r.email }).expect(202);
      const { token } = (await lastMail(t, r.email, 'password_reset'))!.data;
      const newPassword = strongPassword();
      await t.http().post('/auth/password/reset').send({ token, newPassword }).expect(204);
      r = { ...r, password: newPassword, token: (await login(t, r.email, newPassword, r.deviceToken)).accessToken };
      const refused = await confirm(r, id).expect(423);
      expect(refused.body).toMatchObject({ code: 'COOLING_PERIOD_ACTIVE', reason: 'password_reset' });
      expect((await order(b, id)).status).toBe('paid');
      expect(await balance(t, b.id, 'CREDIT')).toBe(0n);
    });

    it('needs a recent re-authentication (401 REAUTH_REQUIRED), and only the reseller confirms', async () => {
      const r = await pool.take();
      const b = await signUp(t, 'buyer');
      const id = (await open(b, r, 10_000).expect(201)).body.id;
      expect(await code(confirm(b, id), 403)).toBe('FORBIDDEN');
      const other = await pool.take();
      expect(await code(confirm(other, id), 404)).toBe('NOT_FOUND');
      await t
        .http()
        .post('/dev/clock')
        .send({ advanceSeconds: 6 * 60 })
        .expect(200);
      expect(await code(confirm(r, id), 401)).toBe('REAUTH_REQUIRED');
      await as(t, r).post('/auth/reauth', { password: r.password }).expect(204);
      await confirm(r, id).expect(200);
      expect(await balance(t, b.id, 'CREDIT')).toBe(10_000n);
      await advance(0, r, b, other);
    });
  });

  describe('concurrency and idempotency', () => {
    it('concurrent confirms and cancels of one order decide it once', async () => {
      const r = await pool.take();
      const b = await signUp(t, 'buyer');
      for (let round = 0; round < 3; round++) {
        const id = (await open(b, r, 10_000).expect(201)).body.id;
        const results = await Promise.all(
          Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? confirm(r, id) : cancel(i % 4 === 1 ? b : r, id, { reason: 'race' }))),
        );
        const ok = results.filter((res) => res.status === 200);
        expect(ok).toHaveLength(1);
        for (const res of results.filter((x) => x.status !== 200)) expect([res.status, res.body.code]).toEqual([409, 'INVALID_STATE']);
        const final = await order(b, id);
        expect(final.status).toBe(ok[0].body.status);
        expect(final.history).toHaveLength(2);
      }
      await expectStockAccountedFor(t, r.id);
    });

    it("concurrent openings never pass a reseller's 24-hour limit", async () => {
      const r = await pool.take({ probation: true });
      const { probationDailyMaxCredits: daily, probationOrderMaxCredits: max } = t.config.resellers;
      const buyers = await bulkBuyers(t, 2 * (daily / max));
      const results = await Promise.all(buyers.map((b) => open(b, r, max)));
      expect(results.filter((res) => res.status === 201)).toHaveLength(daily / max);
      for (const res of results.filter((x) => x.status !== 201)) expect(res.body).toMatchObject({ code: 'LIMIT_EXCEEDED', limit: 'daily' });
      expect(await stock(r)).toBe(500_000n - BigInt(daily));
      await expectStockAccountedFor(t, r.id);
    });

    it('concurrent openings against one reseller never overdraw its stock; each acknowledged order is escrowed once, the rest refused alone', async () => {
      const r = await pool.take({ stock: 45_000 });
      const buyers = await bulkBuyers(t, 12);
      // Amounts that differ, so what fits depends on the order; four buyers open a second order at once.
      const wanted = [...buyers.map((b, i) => ({ b, amount: 5_000 + i * 100 })), ...buyers.slice(0, 4).map((b) => ({ b, amount: 1_000 }))];
      const results = await Promise.all(wanted.map(({ b, amount }) => open(b, r, amount)));
      const opened = results.filter((res) => res.status === 201).map((res) => res.body as { id: string; amount: number; status: string });
      const refused = wanted.filter((_, i) => results[i].status !== 201);
      for (const res of results.filter((x) => x.status !== 201)) expect([res.status, res.body.code]).toEqual([409, 'INSUFFICIENT_FUNDS']);
      expect(opened.length).toBeGreaterThan(0);
      expect(refused.length).toBeGreaterThan(0);
      for (const o of opened) expect(o.status).toBe('open');
      const left = await stock(r);
      expect(left).toBe(45_000n - opened.reduce((sum, o) => sum + BigInt(o.amount), 0n));
      expect(left).toBeGreaterThanOrEqual(0n);
      // Refused only when it did not fit what was left then (at least what is left now).
      for (const { amount } of refused) expect(BigInt(amount)).toBeGreaterThan(left);
      const escrowed = await t.sql<{ order_id: string; n: number }>(
        `SELECT metadata->>'orderId' AS order_id, count(*)::int AS n FROM ledger_entries
          WHERE kind = 'reseller_order_escrow' AND metadata->>'resellerId' = $1 GROUP BY 1`,
        [r.id],
      );
      expect(new Map(escrowed.map((e) => [e.order_id, e.n]))).toEqual(new Map(opened.map((o) => [o.id, 1])));
      const rows = await t.sql<{ id: string }>('SELECT id FROM reseller_orders WHERE reseller_id = $1', [r.id]);
      expect(rows.map((o) => o.id).sort()).toEqual(opened.map((o) => o.id).sort());
      await expectStockAccountedFor(t, r.id);
    });

    it('an opening refused for the stock does not use up the 24-hour total of one decided beside it', async () => {
      const r = await pool.take({ probation: true, stock: 190_000 });
      const { probationDailyMaxCredits: daily, probationOrderMaxCredits: max } = t.config.resellers;
      expect([daily, max]).toEqual([200_000, 50_000]);
      for (const b of await bulkBuyers(t, 3)) await open(b, r, max).expect(201);
      // 150,000 of 200,000 used today, 40,000 in stock: 45,000 is within the day but not the stock, 30,000 both.
      const busy = await pool.take();
      const [a, b, ...others] = await bulkBuyers(t, 26);
      // Openings in flight elsewhere first, so that the two after them are likely decided in one batch.
      const results = await Promise.all([...others.map((o) => open(o, busy, 10_000).expect(201)), open(a, r, 45_000), open(b, r, 30_000)]);
      const [tooBig, fits] = results.slice(-2);
      expect(fits.status).toBe(201);
      // Decided after the 30,000 one (should the requests arrive in that order), it is over the day instead.
      expect([tooBig.status, ['INSUFFICIENT_FUNDS', 'LIMIT_EXCEEDED'].includes(tooBig.body.code)]).toEqual([409, true]);
      expect(await stock(r)).toBe(10_000n);
      await expectStockAccountedFor(t, r.id);
    });

    it('replays an opening, a confirmation, a cancellation and a resolution; refuses a key reused with another body', async () => {
      const r = await pool.take();
      const b = await signUp(t, 'buyer');
      const key = randomUUID();
      const first = await open(b, r, 10_000, key).expect(201);
      const again = await open(b, r, 10_000, key).expect(201);
      expect([again.headers['idempotent-replayed'], again.body.id]).toEqual(['true', first.body.id]);
      expect(await code(open(b, r, 10_001, key), 422)).toBe('IDEMPOTENCY_KEY_REUSED');
      expect(await stock(r)).toBe(490_000n);

      const confirmKey = randomUUID();
      await confirm(r, first.body.id, confirmKey).expect(200);
      const replayed = await confirm(r, first.body.id, confirmKey).expect(200);
      expect([replayed.headers['idempotent-replayed'], replayed.body.status]).toEqual(['true', 'confirmed']);
      expect(await balance(t, b.id, 'CREDIT')).toBe(10_000n);

      const toCancel = (await open(b, r, 10_000).expect(201)).body.id;
      const cancelKey = randomUUID();
      await cancel(b, toCancel, {}, cancelKey).expect(200);
      expect((await cancel(b, toCancel, {}, cancelKey).expect(200)).headers['idempotent-replayed']).toBe('true');

      const disputed = (await open(b, r, 10_000).expect(201)).body.id;
      await markPaid(b, disputed).expect(200);
      await dispute(b, disputed).expect(200);
      const resolveKey = randomUUID();
      await resolve(disputed, 'buyer', resolveKey).expect(200);
      expect((await resolve(disputed, 'buyer', resolveKey).expect(200)).headers['idempotent-replayed']).toBe('true');
      expect(await code(resolve(disputed, 'reseller', resolveKey), 422)).toBe('IDEMPOTENCY_KEY_REUSED');
      expect(await balance(t, b.id, 'CREDIT')).toBe(20_000n);
      expect(
        await code(
          t.http().post('/reseller-orders').set('Authorization', `Bearer ${b.token}`).send({ resellerId: r.id, amount: 1000 }),
          400,
        ),
      ).toBe('IDEMPOTENCY_KEY_REQUIRED');
      await expectStockAccountedFor(t, r.id);
    });
  });

  describe('limits', () => {
    it('validates and refuses who may not order', async () => {
      const r = await pool.take();
      const b = await signUp(t, 'buyer');
      expect(await code(open(b, r, 0), 400)).toBe('VALIDATION_FAILED');
      expect(await code(as(t, b).post('/reseller-orders', { resellerId: r.id, amount: 1000, extra: 1 }), 400)).toBe('VALIDATION_FAILED');
      expect(await code(open(r, r, 1000), 400)).toBe('VALIDATION_FAILED');
      const other = await pool.take();
      expect((await open(other, r, 1000).expect(403)).body).toMatchObject({ code: 'FORBIDDEN', reason: 'BUYER_IS_RESELLER' });
      expect(await code(as(t, b).post('/reseller-orders', { resellerId: randomUUID(), amount: 1000 }), 404)).toBe('NOT_FOUND');
      expect(await code(open(b, b, 1000), 400)).toBe('VALIDATION_FAILED');
      expect(await code(open(b, admin, 1000), 404)).toBe('NOT_FOUND');
      expect(await code(t.http().post('/reseller-orders').set('Idempotency-Key', 'k').send({ resellerId: r.id, amount: 1000 }), 401)).toBe(
        'UNAUTHENTICATED',
      );
    });

    it('enforces the minimum, the maximum (lower in probation), the 24-hour total and the stock', async () => {
      const { orderMinCredits: min, orderMaxCredits: max, probationOrderMaxCredits: pmax, dailyMaxCredits: daily } = t.config.resellers;
      const r = await pool.take({ stock: daily + 10_000 });
      const p = await pool.take({ probation: true });
      const buyers = await bulkBuyers(t, 8);
      expect((await open(buyers[0], r, min - 1).expect(409)).body).toMatchObject({ code: 'LIMIT_EXCEEDED', limit: 'min' });
      expect((await open(buyers[0], r, max + 1).expect(409)).body).toMatchObject({
        code: 'LIMIT_EXCEEDED',
        limit: 'max',
        probation: false,
      });
      expect((await open(buyers[0], p, pmax + 1).expect(409)).body).toMatchObject({
        code: 'LIMIT_EXCEEDED',
        limit: 'max',
        probation: true,
      });
      await open(buyers[0], p, pmax).expect(201);
      for (let i = 0; i < daily / max; i++) await open(buyers[1 + i], r, max).expect(201);
      expect((await open(buyers[7], r, min).expect(409)).body).toMatchObject({ code: 'LIMIT_EXCEEDED', limit: 'daily', remaining: 0 });

      const poor = await pool.take({ stock: 5_000 });
      expect(await code(open(buyers[7], poor, 5_001), 409)).toBe('INSUFFICIENT_FUNDS');
      await open(buyers[7], poor, 5_000).expect(201);
    });

    it('caps the unpaid orders of one buyer', async () => {
      const r = await pool.take();
      const b = await signUp(t, 'buyer');
      const max = t.config.resellers.buyerOpenOrdersMax;
      const ids: string[] = [];
      for (let i = 0; i < max; i++) ids.push((await open(b, r, 1_000).expect(201)).body.id);
      expect((await open(b, r, 1_000).expect(409)).body).toMatchObject({ code: 'LIMIT_EXCEEDED', limit: 'buyer_open_orders', max });
      await markPaid(b, ids[0]).expect(200);
      await open(b, r, 1_000).expect(201);
    });

    it('refuses orders without a bond, with overdue re-vetting, or from a suspended reseller, whose open orders still resolve', async () => {
      const b = await signUp(t, 'buyer');
      const noBond = await pool.take({ bond: false });
      expect((await open(b, noBond, 1_000).expect(409)).body).toMatchObject({ code: 'INVALID_STATE', reason: 'bond_missing' });
      const overdue = await pool.take({ vettingOverdue: true });
      expect((await open(b, overdue, 1_000).expect(409)).body).toMatchObject({ code: 'INVALID_STATE', reason: 'vetting_overdue' });

      const r = await pool.take();
      const paid = (await open(b, r, 2_000).expect(201)).body.id;
      const disputed = (await open(b, r, 3_000).expect(201)).body.id;
      await markPaid(b, paid).expect(200);
      await markPaid(b, disputed).expect(200);
      await dispute(b, disputed).expect(200);
      await statusChange(r, 'suspend');
      expect((await open(b, r, 1_000).expect(409)).body).toMatchObject({ code: 'INVALID_STATE', reason: 'not_active' });
      await confirm(r, paid).expect(200);
      await resolve(disputed, 'buyer').expect(200);
      expect(await balance(t, b.id, 'CREDIT')).toBe(5_000n);
      await expectStockAccountedFor(t, r.id);
    });
  });

  describe('visibility', () => {
    it('shows an order to its buyer, its reseller and admins only', async () => {
      const r = await pool.take();
      const b = await signUp(t, 'buyer');
      const stranger = await signUp(t, 'stranger');
      const id = (await open(b, r, 1_000).expect(201)).body.id;
      expect(await code(as(t, stranger).get(`/reseller-orders/${id}`), 404)).toBe('NOT_FOUND');
      await as(t, r).get(`/reseller-orders/${id}`).expect(200);
      expect((await as(t, admin).get(`/admin/reseller-orders/${id}`).expect(200)).body.history).toHaveLength(1);
      expect(await code(as(t, b).get(`/admin/reseller-orders/${id}`), 403)).toBe('FORBIDDEN');
      expect(await code(as(t, stranger).post(`/reseller-orders/${id}/mark-paid`, { paymentReference: 'x' }), 404)).toBe('NOT_FOUND');
      expect(await code(as(t, r).post(`/reseller-orders/${id}/mark-paid`, { paymentReference: 'x' }), 403)).toBe('FORBIDDEN');
      expect(await code(as(t, admin).get(`/admin/reseller-orders?cursor=bad`), 400)).toBe('VALIDATION_FAILED');
    });

    it("lists the caller's own orders, as buyer or (as=reseller) as reseller, by status, page by page", async () => {
      const r = await pool.take();
      const [b1, b2] = [await signUp(t, 'buyer'), await signUp(t, 'buyer')];
      const first = (await open(b1, r, 1_000).expect(201)).body.id;
      const second = (await open(b1, r, 2_000).expect(201)).body.id;
      const other = (await open(b2, r, 3_000).expect(201)).body.id;
      await markPaid(b1, second).expect(200);
      const ids = async (a: Actor, query: string) =>
        ((await as(t, a).get(`/reseller-orders${query}`).expect(200)).body.items as { id: string }[]).map((o) => o.id);
      expect(await ids(b1, '')).toEqual([first, second]);
      expect(await ids(b2, '?as=buyer')).toEqual([other]);
      expect(await ids(r, '?as=reseller')).toEqual([first, second, other]);
      expect(await ids(r, '?as=reseller&status=paid')).toEqual([second]);
      expect(await ids(r, '')).toEqual([]);
      expect(await code(as(t, b2).get(`/reseller-orders?resellerId=${r.id}`), 400)).toBe('VALIDATION_FAILED');
      const page1 = (await as(t, r).get('/reseller-orders?as=reseller&limit=2').expect(200)).body;
      expect(page1.items.map((o: { id: string }) => o.id)).toEqual([first, second]);
      expect(await ids(r, `?as=reseller&limit=2&cursor=${page1.nextCursor}`)).toEqual([other]);
      expect(await code(as(t, r).get('/reseller-orders?as=seller'), 400)).toBe('VALIDATION_FAILED');
    });
  });

  describe('fraud reviews', () => {
    async function rule(eventType: string, amount: number) {
      await as(t, admin)
        .post('/admin/fraud/rules', {
          name: `review-${eventType}-${amount}`,
          eventTypes: [eventType],
          condition: { '==': [{ var: 'event.amount' }, amount] },
          action: 'REVIEW',
          score: 0,
          mode: 'ACTIVE',
        })
        .expect(201);
    }
    const review = async (eventType: string, subjectId: string) =>
      (await t.sql<{ id: string }>(`SELECT id FROM fraud_reviews WHERE event_type = $1 AND subject_id = $2`, [eventType, subjectId]))[0].id;
    const decide = (id: string, action: 'approve' | 'reject') =>
      as(t, admin).post(`/admin/fraud/reviews/${id}/${action}`, { note: 'checked' }).expect(200);

    it('a reviewed opening waits with its credits in escrow: approved it opens, rejected the stock comes back', async () => {
      await rule('reseller_order_open', 7_771);
      const r = await pool.take();
      const b = await signUp(t, 'buyer');
      const approved = (await open(b, r, 7_771).expect(201)).body;
      expect(approved.status).toBe('open_review');
      expect(await code(markPaid(b, approved.id), 409)).toBe('INVALID_STATE');
      await decide(await review('reseller_order_open', approved.id), 'approve');
      expect((await order(b, approved.id)).status).toBe('open');
      await markPaid(b, approved.id).expect(200);

      const rejected = (await open(b, r, 7_771).expect(201)).body;
      await decide(await review('reseller_order_open', rejected.id), 'reject');
      expect((await order(b, rejected.id)).status).toBe('rejected');
      expect(await stock(r)).toBe(500_000n - 7_771n);
      await expectStockAccountedFor(t, r.id);
    });

    it('a reviewed confirmation keeps the credits in escrow: approved they are delivered, rejected the order is disputed', async () => {
      await rule('reseller_order_confirm', 7_772);
      const r = await pool.take();
      const b = await signUp(t, 'buyer');
      const first = (await open(b, r, 7_772).expect(201)).body.id;
      const second = (await open(b, r, 7_772).expect(201)).body.id;
      expect((await confirm(r, first).expect(200)).body.status).toBe('confirm_review');
      expect(await balance(t, b.id, 'CREDIT')).toBe(0n);
      await decide(await review('reseller_order_confirm', first), 'approve');
      expect((await order(b, first)).status).toBe('confirmed');
      expect(await balance(t, b.id, 'CREDIT')).toBe(7_772n);

      await confirm(r, second).expect(200);
      await decide(await review('reseller_order_confirm', second), 'reject');
      expect(await order(b, second)).toMatchObject({ status: 'disputed', disputeOpenedBy: 'system' });
      expect((await confirm(r, second).expect(409)).body).toMatchObject({ reason: 'confirmation_refused' });
      await resolve(second, 'reseller').expect(200);
      expect(await stock(r)).toBe(500_000n - 7_772n);
      await expectStockAccountedFor(t, r.id);
    });
  });
});

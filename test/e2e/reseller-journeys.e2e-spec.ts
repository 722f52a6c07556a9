import { trustScore } from '../../src/resellers/scorecard/trust-score.policy';
import { deliverEvent, FakeStripe } from '../support/fake-stripe';
import { lastMail } from '../support/auth';
import { Actor, as, balance, bulkBuyers, makeAdmin, signInAgain, signUp } from '../support/market-fixtures';
import { APPLICATION, inBatches } from '../support/reseller-fixtures';
import { expectStockAccountedFor, stockAccounting } from '../support/reseller-order-fixtures';
import { ResellerPool, useResellerSuite } from '../support/reseller-pool';
import { TestApp } from '../support/test-app';

/**
 * The reseller program's journeys over HTTP (issue 14): one through every part, from an eligible
 * applicant to a buyer's credited wallet, and the automatic suspension by losses in disputes
 * (loss-suspension.policy.ts: the count rule, the rate rule, and what a reinstatement means).
 */
describe('reseller journeys', () => {
  let t: TestApp, fake: FakeStripe, pool: ResellerPool, admin: Actor, admin2: Actor;

  useResellerSuite((s) => ({ t, fake, pool } = s), { ready: 2, fresh: 1 });
  beforeAll(async () => {
    admin = await makeAdmin(t, await signUp(t, 'admin'));
    admin2 = await makeAdmin(t, await signUp(t, 'admin2'));
  });

  const open = (b: Actor, r: Actor, amount: number) => as(t, b).post('/reseller-orders', { resellerId: r.id, amount });
  const step = (a: Actor, id: string, action: string, body: object = {}) =>
    as(t, a).post(`/reseller-orders/${id}/${action}`, body).expect(200);
  const markPaid = (b: Actor, id: string) => step(b, id, 'mark-paid', { paymentReference: 'bank transfer 4711' });
  const resolve = (id: string, outcome: 'buyer' | 'reseller') =>
    as(t, admin)
      .post(`/admin/reseller-orders/${id}/resolve`, { outcome, note: `decided for the ${outcome}` })
      .expect(200);
  const reseller = async (r: Actor) => (await as(t, admin).get(`/admin/resellers/${r.id}`).expect(200)).body;
  const suspensions = (r: Actor) =>
    t.sql<{ actor_id: string | null; reason: string }>(
      `SELECT actor_id, reason FROM audit_log WHERE action = 'reseller.suspended' AND subject_id = $1 ORDER BY seq`,
      [r.id],
    );
  /** A paid order its buyer disputes, resolved to the buyer from escrow: a lost dispute. */
  async function lose(b: Actor, r: Actor): Promise<void> {
    const id = (await open(b, r, 1_000).expect(201)).body.id;
    await markPaid(b, id);
    await step(b, id, 'dispute', { reason: 'I paid and got nothing' });
    await resolve(id, 'buyer');
  }
  /**
   * `buyers.length` orders of 1,000, one per buyer, opened and confirmed five at a time: fewer than the
   * connection pool, since requests queued on the reseller's row lock each hold a connection while the
   * lock holder may need one more (the fraud rules' cache refresh reads outside the transaction).
   */
  async function delivered(r: Actor, buyers: Actor[]): Promise<void> {
    await inBatches(buyers, 5, async (b) => step(r, (await open(b, r, 1_000).expect(201)).body.id, 'confirm'));
  }

  it('an eligible applicant becomes a reseller, stocks up through Stripe, and delivers an order to a buyer', async () => {
    const bondCredits = t.config.resellers.bondCredits;
    const runJobs = () => t.http().post('/dev/jobs/run').expect(200);
    /** The customer pays: the fake Stripe's success, delivered to the webhook, processed by the event job. */
    async function pay(paymentIntentId: string) {
      const [, succeeded] = fake.succeed(paymentIntentId, { fingerprint: 'fp_journey' });
      await deliverEvent(t, fake, succeeded).expect(200);
      await runJobs();
    }

    // Vetting: an eligible applicant applies; two different admins approve.
    const r = pool.applicant();
    await signInAgain(t, r);
    const application = (await as(t, r).post('/reseller-applications', APPLICATION).expect(201)).body;
    expect(application).toMatchObject({ status: 'submitted', businessName: APPLICATION.businessName });
    const report = (await as(t, admin).get(`/admin/reseller-applications/${application.id}`).expect(200)).body.checkReport;
    expect(report.eligibility.every((c: { passed: boolean }) => c.passed)).toBe(true);
    expect(
      (await as(t, admin).post(`/admin/reseller-applications/${application.id}/approve`, { note: 'documents fine' }).expect(200)).body,
    ).toMatchObject({ status: 'awaiting_second_approval' });
    expect(
      (await as(t, admin2).post(`/admin/reseller-applications/${application.id}/approve`, { note: 'agreed' }).expect(200)).body,
    ).toMatchObject({ status: 'approved' });
    expect(await reseller(r)).toMatchObject({ status: 'active', displayName: APPLICATION.businessName, standing: { probation: true } });
    await signInAgain(t, r);

    // The bond, from a wallet filled by a token purchase paid through Stripe.
    const walletPackage = (
      await as(t, admin)
        .post('/admin/token-packages', { name: 'Journey credits', priceCents: 1_000, currency: 'USD', credits: bondCredits })
        .expect(201)
    ).body;
    await pay((await as(t, r).post('/token-purchases', { packageId: walletPackage.id }).expect(201)).body.paymentIntentId);
    expect(await balance(t, r.id, 'CREDIT')).toBe(BigInt(bondCredits));
    expect((await as(t, r).post('/reseller/bond').expect(200)).body).toEqual({
      bond: bondCredits,
      required: bondCredits,
      moved: bondCredits,
    });

    // Stock: a wholesale package at the wholesale price, minted into reseller_stock by the webhook.
    const bulk = (
      await as(t, admin)
        .post('/admin/token-packages', { name: 'Journey bulk', priceCents: 9_999, currency: 'USD', credits: 100_000, audience: 'reseller' })
        .expect(201)
    ).body;
    const offered = (await as(t, r).get('/reseller/wholesale-packages?limit=200').expect(200)).body.items;
    expect(offered.find((p: { id: string }) => p.id === bulk.id)).toMatchObject({ priceCents: 8_500, credits: 100_000 });
    const purchase = (await as(t, r).post('/reseller/wholesale-purchases', { packageId: bulk.id }).expect(201)).body;
    expect(fake.paymentIntent(purchase.paymentIntentId)).toMatchObject({ amount: 8_500, currency: 'usd' });
    await pay(purchase.paymentIntentId);
    expect((await as(t, r).get(`/token-purchases/${purchase.id}`).expect(200)).body).toMatchObject({
      status: 'succeeded',
      destination: 'reseller_stock',
    });
    expect(await balance(t, r.id, 'CREDIT', 'reseller_stock')).toBe(100_000n);

    // A buyer finds the reseller in the directory and orders.
    const listed = async () =>
      (await t.http().get('/resellers?limit=200').expect(200)).body.items.find((e: { id: string }) => e.id === r.id);
    expect(await listed()).toMatchObject({ displayName: APPLICATION.businessName, takingOrders: true, probation: true, trustScore: 50 });
    const b = await signUp(t, 'buyer');
    const order = (await open(b, r, 40_000).expect(201)).body;
    expect(order).toMatchObject({ status: 'open', amount: 40_000, resellerId: r.id, buyerId: b.id });
    expect(await balance(t, r.id, 'CREDIT', 'reseller_stock')).toBe(60_000n);
    expect((await markPaid(b, order.id)).body).toMatchObject({ status: 'paid' });

    // Confirming moves value: it needs a recent re-authentication.
    await t
      .http()
      .post('/dev/clock')
      .send({ advanceSeconds: 6 * 60 })
      .expect(200);
    expect((await as(t, r).post(`/reseller-orders/${order.id}/confirm`).expect(401)).body.code).toBe('REAUTH_REQUIRED');
    await as(t, r).post('/auth/reauth', { password: r.password }).expect(204);
    expect((await step(r, order.id, 'confirm')).body).toMatchObject({ status: 'confirmed' });
    expect(await balance(t, b.id, 'CREDIT')).toBe(40_000n);

    // The record shows it, in the scorecard and the directory.
    const expectedScore = trustScore({ orders: 1, paid: 1, confirmed: 1, disputes: 0, disputesLost: 0, cancelledByReseller: 0 });
    expect((await as(t, r).get('/reseller/scorecard').expect(200)).body).toMatchObject({
      orders: 1,
      paid: 1,
      confirmed: 1,
      completionRate: 1,
      disputes: 0,
      trustScore: expectedScore,
    });
    expect(expectedScore).toBeGreaterThan(50);
    expect(await listed()).toMatchObject({ trustScore: expectedScore, takingOrders: true });

    // The money: wholesale bought = stock + in escrow + delivered, and the ledger verifies.
    expect(await stockAccounting(t, r.id)).toMatchObject({
      wholesaleCredited: 100_000n,
      stock: 60_000n,
      inEscrow: 0n,
      delivered: 40_000n,
      bondPayouts: 0n,
    });
    await expectStockAccountedFor(t, r.id);
    const verify = (await as(t, admin).get('/admin/ledger/verify').expect(200)).body;
    expect([verify.ok, verify.problems]).toEqual([true, []]);
  });

  it('suspends after the third lost dispute a reseller whose orders keep the loss rate low; its open orders still settle', async () => {
    const r = await pool.take({ stock: 200_000 });
    const buyers = await bulkBuyers(t, 108);
    await delivered(r, buyers.slice(0, 100));

    for (const [n, b] of [buyers[100], buyers[101]].entries()) {
      await lose(b, r);
      // 1 of 101 orders, 2 of 103: under the 2% rate, under the count of 3.
      expect(await reseller(r)).toMatchObject({ status: 'active', standing: { takingOrders: true } });
      await open(buyers[102 + n], r, 1_000).expect(201);
    }
    const stillOpen = (await open(buyers[104], r, 1_000).expect(201)).body.id;
    const disputed = (await open(buyers[105], r, 1_000).expect(201)).body.id;
    await markPaid(buyers[105], disputed);
    await step(buyers[105], disputed, 'dispute', { reason: 'nothing came' });
    expect(await suspensions(r)).toEqual([]);

    await lose(buyers[106], r);
    expect(await reseller(r)).toMatchObject({
      status: 'suspended',
      statusReason: 'automatic: 3 disputes lost in 30 days',
      statusChangedBy: null,
      standing: { takingOrders: false, reason: 'not_active' },
    });
    expect((await as(t, admin).get(`/admin/resellers/${r.id}/scorecard`).expect(200)).body).toMatchObject({ orders: 107, disputesLost: 3 });
    expect(await suspensions(r)).toEqual([{ actor_id: null, reason: 'automatic: 3 disputes lost in 30 days' }]);
    expect(await lastMail(t, r.email, 'reseller.suspended')).toMatchObject({ subject: 'Your reseller account is suspended' });
    expect((await open(buyers[107], r, 1_000).expect(409)).body).toMatchObject({ code: 'INVALID_STATE', reason: 'not_active' });
    const directory = (await t.http().get('/resellers?limit=200').expect(200)).body.items.map((e: { id: string }) => e.id);
    expect(directory).not.toContain(r.id);

    // Suspension stops new orders only.
    expect((await step(r, stillOpen, 'confirm')).body).toMatchObject({ status: 'confirmed' });
    expect((await resolve(disputed, 'buyer')).body).toMatchObject({ status: 'resolved_buyer' });
    expect(await balance(t, buyers[104].id, 'CREDIT')).toBe(1_000n);
    expect(await balance(t, buyers[105].id, 'CREDIT')).toBe(1_000n);
    expect(await suspensions(r)).toHaveLength(1);
    await expectStockAccountedFor(t, r.id);
  });

  it('suspends on the loss rate with few orders; reinstated, the reseller is suspended again only by a new loss', async () => {
    const r = await pool.take();
    const buyers = await bulkBuyers(t, 5);
    await delivered(r, buyers.slice(0, 2));
    await lose(buyers[2], r);
    expect(await reseller(r)).toMatchObject({
      status: 'suspended',
      statusReason: 'automatic: 1 of 3 orders lost in disputes in 30 days',
      statusChangedBy: null,
    });
    expect(await lastMail(t, r.email, 'reseller.suspended')).toBeDefined();

    await as(t, admin).post(`/admin/resellers/${r.id}/reinstate`, { note: 'one unlucky buyer' }).expect(200);
    // Neither the flags job nor a dispute the reseller wins suspends it again: the losses were looked at.
    await t.http().post('/dev/jobs/run').expect(200);
    const won = (await open(buyers[3], r, 1_000).expect(201)).body.id;
    await markPaid(buyers[3], won);
    await step(buyers[3], won, 'dispute', { reason: 'nothing came' });
    await resolve(won, 'reseller');
    expect(await reseller(r)).toMatchObject({ status: 'active', statusChangedBy: admin.id, standing: { takingOrders: true } });

    await lose(buyers[4], r);
    expect(await reseller(r)).toMatchObject({
      status: 'suspended',
      statusReason: 'automatic: 2 of 5 orders lost in disputes in 30 days',
      statusChangedBy: null,
    });
    expect((await suspensions(r)).map((s) => s.actor_id)).toEqual([null, null]);
    await expectStockAccountedFor(t, r.id);
  });
});

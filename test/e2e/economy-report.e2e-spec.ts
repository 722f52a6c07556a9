import { deliverEvent } from '../support/fake-stripe';
import {
  Actor,
  as,
  disableFraudRule,
  fund,
  GIFT_TO_NEW_LINKED_ACCOUNT_RULE,
  ledger,
  login,
  makeAdmin,
  publishListing,
  signInAgain,
  signUp,
  signUpCreator,
  verifyEmail,
} from '../support/market-fixtures';
import { clockNow, inBatches } from '../support/reseller-fixtures';
import { ResellerPool, useResellerSuite } from '../support/reseller-pool';
import { FakeStripe } from '../support/fake-stripe';
import { TestApp } from '../support/test-app';

const DAY = 86_400;

/**
 * The economy report over a seeded history of four days, made through the real routes on the business
 * clock: sales, a PROMO sale, an item gift and credit gifts answered, a token purchase whose credits are
 * spent before its chargeback, an order refund charging the creator, a reseller order disputed and paid
 * from the bond, a fraud block and an approved review, a payment refunded, and a confirmed takeover
 * (new-device sign-in, owner freeze, label). Every figure is checked against the number the history makes.
 */
describe('economy report', () => {
  let t: TestApp, fake: FakeStripe, pool: ResellerPool;
  useResellerSuite(
    (s) => ({ t, fake, pool } = s),
    { ready: 1 },
    { FRAUD_RULES_CACHE_MS: '0', EARNINGS_HOLD_DAYS: '2', NEW_CREATOR_HOLD_DAYS: '2' },
  );

  let admin: Actor, c1: Actor, c2: Actor, b1: Actor, b2: Actor, b3: Actor, b4: Actor, b5: Actor, b6: Actor, victim: Actor, r: Actor;
  let l1: string, l2: string, l3: string, l4: string, l5: string, l6: string, l7: string;
  let packageId: string;
  let t0: Date;
  let supplyBefore: Record<string, { minted: number; burned: number; outstanding: number }>;

  const runJobs = () => t.http().post('/dev/jobs/run').expect(200);
  const nextDay = async (...actors: Actor[]) => {
    await t.http().post('/dev/clock').send({ advanceSeconds: DAY }).expect(200);
    await inBatches([admin, ...actors], 4, (a) => signInAgain(t, a));
  };
  const order = (a: Actor, listingId: string, body: object = {}) => as(t, a).post('/orders', { listingId, ...body });
  const gift = async (from: Actor, to: Actor, amount: number) => {
    await as(t, from).post('/auth/reauth', { password: from.password }).expect(204);
    const res = await as(t, from).post('/credit-transfers', { toUserId: to.id, amount }).expect(201);
    expect(res.body.status).toBe('completed');
  };
  const buyPackage = async (a: Actor) => {
    const created = (await as(t, a).post('/token-purchases', { packageId }).expect(201)).body;
    const [, succeeded] = fake.succeed(created.paymentIntentId, { fingerprint: `fp_${a.id.slice(0, 8)}` });
    await deliverEvent(t, fake, succeeded).expect(200);
    await runJobs();
    return created as { id: string; paymentIntentId: string };
  };
  const report = (query: string) => as(t, admin).get(`/admin/economy/report?${query}`);
  const range = () => `from=${t0.toISOString()}&to=${new Date(t0.getTime() + 4 * DAY * 1000).toISOString()}`;

  beforeAll(async () => {
    admin = await makeAdmin(t, await signUp(t, 'admin'));
    await disableFraudRule(t, admin, GIFT_TO_NEW_LINKED_ACCOUNT_RULE);
    [c1, c2] = [await signUpCreator(t, 'c1'), await signUpCreator(t, 'c2')];
    [b1, b2, b3, b4, b5, b6, victim] = await inBatches(['b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'victim'], 4, (l) => signUp(t, l));
    for (const a of [b1, b2]) await verifyEmail(t, a);
    const listing = async (creator: Actor, profit: number) => (await publishListing(t, creator, admin, { profit })).id;
    [l1, l2, l6, l7] = [await listing(c1, 1000), await listing(c1, 500), await listing(c1, 5000), await listing(c1, 7000)];
    [l3, l4, l5] = [await listing(c2, 2000), await listing(c2, 300), await listing(c2, 4000)];
    packageId = (
      await as(t, admin)
        .post('/admin/token-packages', { name: 'Econ', priceCents: 499, currency: 'USD', credits: 5000, bonusPromo: 0 })
        .expect(201)
    ).body.id;
    await fund(t, b1.id, 'CREDIT', 10_000);
    await fund(t, b2.id, 'CREDIT', 10_000);
    await fund(t, b2.id, 'PROMO', 5_000);
    await fund(t, b3.id, 'CREDIT', 20_000);
    r = await pool.take();
    for (const rule of [
      { name: 'econ-review-5500', action: 'REVIEW', score: 60, condition: { '==': [{ var: 'event.amount' }, 5500] } },
      { name: 'econ-block-7700', action: 'BLOCK', score: 100, condition: { '==': [{ var: 'event.amount' }, 7700] } },
    ])
      await as(t, admin)
        .post('/admin/fraud/rules', { ...rule, eventTypes: ['item_purchase'], mode: 'ACTIVE' })
        .expect(201);
    supplyBefore = (await report(`from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z`).expect(200)).body.supply.assets;
    t0 = await clockNow(t);
  }, 180_000);

  it('is refused to non-admins and for bad ranges', async () => {
    expect((await as(t, b1).get(`/admin/economy/report?${range()}`).expect(403)).body.code).toBe('FORBIDDEN');
    expect((await report('from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z').expect(400)).body.code).toBe('REPORT_RANGE_INVALID');
    expect((await report('from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z').expect(400)).body.code).toBe('REPORT_RANGE_INVALID');
    expect((await report('from=yesterday&to=2026-01-01T00:00:00Z').expect(400)).body.code).toBe('VALIDATION_FAILED');
    expect((await report(`${range()}&interval=month`).expect(400)).body.code).toBe('VALIDATION_FAILED');
  });

  it('reports every figure of a seeded history exactly', async () => {
    // Day 0: sales (a returning buyer), a PROMO sale, an item gift, a card purchase spent at once, a credit gift.
    await order(b1, l1).expect(201);
    const refunded = (await order(b1, l2).expect(201)).body.id;
    await order(b2, l1, { payWith: 'PROMO' }).expect(201);
    await order(b3, l3, { giftToUserId: b1.id }).expect(201);
    const stolen = await buyPackage(b4);
    await order(b4, l5).expect(201);
    await gift(b1, b2, 1000);

    // Day 1: the chargeback after the credits were spent, the gift answered, a sale, a refund charging the creator, a reseller order lost from the bond.
    await nextDay(b1, b2, b5, r);
    await deliverEvent(t, fake, fake.dispute(stolen.paymentIntentId)).expect(200);
    await runJobs();
    await gift(b2, b1, 500);
    await order(b1, l4).expect(201);
    await as(t, admin).post(`/admin/orders/${refunded}/refund`, { reason: 'never delivered', chargeCreator: true }).expect(200);
    const ro = (await as(t, b5).post('/reseller-orders', { resellerId: r.id, amount: 10_000 }).expect(201)).body.id;
    await as(t, b5).post(`/reseller-orders/${ro}/mark-paid`, { paymentReference: 'bank transfer 1' }).expect(200);
    await as(t, r).post(`/reseller-orders/${ro}/confirm`).expect(200);
    await as(t, b5).post(`/reseller-orders/${ro}/dispute`, { reason: 'credits never arrived' }).expect(200);
    expect(
      (await as(t, admin).post(`/admin/reseller-orders/${ro}/resolve`, { outcome: 'buyer', note: 'for the buyer' }).expect(200)).body,
    ).toMatchObject({
      bondPaid: 10_000,
    });

    // Day 2: a review approved, a block, a payment refunded, a takeover: new-device sign-in, the owner's freeze, the label.
    await nextDay(b2, b3, b6);
    const held = (await order(b2, l6).expect(201)).body;
    expect(held.status).toBe('held_for_review');
    const review = (await as(t, admin).get('/admin/fraud/reviews?status=open').expect(200)).body.items.find(
      (i: { subjectId: string }) => i.subjectId === held.id,
    );
    await as(t, admin).post(`/admin/fraud/reviews/${review.id}/approve`, { note: 'fine' }).expect(200);
    expect((await order(b3, l7).expect(403)).body.code).toBe('FRAUD_BLOCKED');
    const refundedPayment = await buyPackage(b6);
    await as(t, admin).post(`/admin/token-purchases/${refundedPayment.id}/refund`, { reason: 'customer asked' }).expect(200);
    const intruder = await login(t, victim.email, victim.password);
    await t
      .http()
      .post('/dev/clock')
      .send({ advanceSeconds: 2 * 3600 })
      .expect(200);
    const owner = { ...victim, token: (await login(t, victim.email, victim.password, victim.deviceToken)).accessToken };
    await as(t, owner).post('/me/freeze').expect(200);
    await signInAgain(t, admin);
    await as(t, admin).post('/admin/fraud/labels', { userId: victim.id, label: 'confirmed_takeover', note: 'owner confirmed' }).expect(201);
    expect(intruder.accessToken).toEqual(expect.any(String));

    // Day 3: the earnings held 2 days mature.
    await nextDay();
    await runJobs();

    const res = await report(range()).expect(200);
    const body = res.body;
    expect(body.intervals).toHaveLength(4);
    const [d0, d1, d2, d3] = body.intervals;
    expect(d0.from).toBe(t0.toISOString());

    // Money
    expect(d0.money.gmv).toEqual({ CREDIT: { orders: 4, amount: 1100 + 550 + 2200 + 4400 }, PROMO: { orders: 1, amount: 1100 } });
    expect(d1.money.gmv).toEqual({ CREDIT: { orders: 1, amount: 330 }, PROMO: { orders: 0, amount: 0 } });
    expect(d2.money.gmv).toEqual({ CREDIT: { orders: 1, amount: 5500 }, PROMO: { orders: 0, amount: 0 } });
    expect(body.total.money.gmv).toEqual({ CREDIT: { orders: 6, amount: 14_080 }, PROMO: { orders: 1, amount: 1100 } });
    expect(d0.money.moneyIn).toEqual({ tokenPackages: [{ currency: 'USD', count: 1, cents: 499 }], wholesale: [] });
    expect(d2.money.moneyIn).toEqual({ tokenPackages: [{ currency: 'USD', count: 1, cents: 499 }], wholesale: [] });
    expect(body.total.money.moneyIn).toEqual({ tokenPackages: [{ currency: 'USD', count: 2, cents: 998 }], wholesale: [] });
    expect([d0, d1, d2, d3].map((d) => d.money.platformRevenue)).toEqual([750, 30 - 50, 500, 0]);
    expect(body.total.money.platformRevenue).toBe(1230);
    expect([d0, d1, d2, d3].map((d) => d.money.creatorEarnings)).toEqual([
      { accrued: 7500, matured: 0 },
      { accrued: 300, matured: 0 },
      // Held 2 days: day 0's shares (less the refunded one) mature at the jobs run on day 2, day 1's on day 3.
      { accrued: 5000, matured: 1000 + 2000 + 4000 },
      { accrued: 0, matured: 300 },
    ]);
    expect(body.total.money.creatorEarnings).toEqual({ accrued: 12_800, matured: 7300 });
    expect([d0, d1, d2, d3].map((d) => d.money.creditsGifted)).toEqual([
      { count: 1, amount: 1000 },
      { count: 1, amount: 500 },
      { count: 0, amount: 0 },
      { count: 0, amount: 0 },
    ]);

    // Harm
    expect(d1.harm.orderRefunds).toEqual({ count: 1, amount: 550, promoAmount: 0, rate: 1 });
    expect(body.total.harm.orderRefunds).toEqual({ count: 1, amount: 550, promoAmount: 0, rate: 1 / 7 });
    expect(d2.harm.paymentRefunds).toEqual({ count: 1, amounts: [{ currency: 'USD', count: 1, cents: 499 }], rate: 1 });
    expect(body.total.harm.paymentRefunds).toEqual({ count: 1, amounts: [{ currency: 'USD', count: 1, cents: 499 }], rate: 0.5 });
    expect(d1.harm.chargebacks).toEqual({
      count: 1,
      amounts: [{ currency: 'USD', count: 1, cents: 499 }],
      settledPayments: 0,
      rate: null,
      lost: 0,
      aboveVisaRate: false,
      aboveMastercardRate: false,
    });
    expect(body.total.harm.chargebacks).toEqual({
      count: 1,
      amounts: [{ currency: 'USD', count: 1, cents: 499 }],
      settledPayments: 2,
      rate: 0.5,
      lost: 0,
      aboveVisaRate: true,
      aboveMastercardRate: true,
    });
    // 5,000 credits bought, 4,400 spent on the item: the clawback takes the 600 left and 4,400 become debt.
    expect([d0, d1, d2, d3].map((d) => d.harm.clawbackDebt)).toEqual([
      { created: 0, repaid: 0, outstanding: 0 },
      { created: 4400, repaid: 0, outstanding: 4400 },
      { created: 0, repaid: 0, outstanding: 4400 },
      { created: 0, repaid: 0, outstanding: 4400 },
    ]);
    expect(body.total.harm.clawbackDebt).toEqual({ created: 4400, repaid: 0, outstanding: 4400 });
    // Decisions: day 0 five item purchases, the token purchase and its payment, the gift; day 1 five sign-ins (the clock
    // move), the gift, a purchase, the reseller order's opening and confirmation; day 2 seven sign-ins (four after the
    // clock move, the intruder, the owner, the admin again), the reviewed and the blocked purchase, the purchase and
    // its payment; day 3 the admin's sign-in.
    expect([d0, d1, d2, d3].map((d) => d.harm.fraud.decisions)).toEqual([8, 9, 11, 1]);
    expect(d2.harm.fraud.blocks).toEqual({ count: 1, amount: 7700, rate: 1 / 11 });
    expect(d0.harm.fraud.blocks).toEqual({ count: 0, amount: 0, rate: 0 });
    expect(body.total.harm.fraud).toEqual({
      decisions: 29,
      blocks: { count: 1, amount: 7700, rate: 1 / 29 },
      reviews: { opened: 1, approved: 1, rejected: 0, approvedShare: 1 },
    });
    expect(d2.harm.fraud.reviews).toEqual({ opened: 1, approved: 1, rejected: 0, approvedShare: 1 });
    expect(d1.harm.fraud.reviews).toEqual({ opened: 0, approved: 0, rejected: 0, approvedShare: null });

    await signInAgain(t, victim);
    const events = (await as(t, victim).get('/me/security-events').expect(200)).body.items as {
      kind: string;
      occurredAt: string;
    }[];
    const at = (kind: string) => new Date(events.find((e) => e.kind === kind)!.occurredAt);
    const contained = Math.round((at('account_frozen').getTime() - at('new_device_login').getTime()) / 1000);
    expect(contained).toBeGreaterThanOrEqual(7200);
    const takeover = {
      userId: victim.id,
      labelledAt: expect.any(String),
      firstSuspiciousAt: at('new_device_login').toISOString(),
      containedAt: at('account_frozen').toISOString(),
      secondsToContain: contained,
    };
    expect(d2.harm.takeovers).toEqual({ count: 1, medianSecondsToContain: contained, items: [takeover] });
    expect(body.total.harm.takeovers).toEqual({ count: 1, medianSecondsToContain: contained, items: [takeover] });
    expect(d1.harm.takeovers).toEqual({ count: 0, medianSecondsToContain: null, items: [] });
    expect([d0, d1, d2, d3].map((d) => d.harm.ownerFreezes.count)).toEqual([0, 0, 1, 0]);
    expect(d1.harm.resellerOrders).toEqual({
      opened: 1,
      disputed: { count: 1, amount: 10_000, rate: 1 },
      lost: { count: 1, amount: 10_000, rate: 1 },
      paidFromBonds: { count: 1, amount: 10_000 },
    });
    expect(body.total.harm.resellerOrders).toEqual(d1.harm.resellerOrders);
    expect(d1.harm.earningsReversed).toEqual({ count: 1, amount: 500, rate: 500 / 300 });
    expect(body.total.harm.earningsReversed).toEqual({ count: 1, amount: 500, rate: 500 / 12_800 });

    // Patterns: pairs (b1,c1) 2 sales on day 0, (b2,c1) PROMO on day 0 and the reviewed sale on day 2, (b3,c2), (b4,c2), (b1,c2) on day 1.
    expect([d0, d1, d2, d3].map((d) => d.patterns.orbits)).toEqual([
      { one: 3, twoToFour: 1, fivePlus: 0 },
      { one: 1, twoToFour: 0, fivePlus: 0 },
      { one: 1, twoToFour: 0, fivePlus: 0 },
      { one: 0, twoToFour: 0, fivePlus: 0 },
    ]);
    expect(body.total.patterns.orbits).toEqual({ one: 3, twoToFour: 2, fivePlus: 0 });
    expect([d0, d1, d2, d3].map((d) => [d.patterns.sales, d.patterns.returningBuyerSales, d.patterns.returningBuyerShare])).toEqual([
      [5, 1, 1 / 5],
      [1, 0, 0],
      [1, 1, 1],
      [0, 0, null],
    ]);
    expect(body.total.patterns).toMatchObject({ sales: 7, returningBuyerSales: 2, returningBuyerShare: 2 / 7 });
    // New buyers b1, b2, b3, b4 on day 0; b1 (day 1) and b2 (day 2) bought again within 30 days.
    expect(d0.patterns.newBuyers).toEqual({ count: 4, secondPurchaseWithin30Days: 2, share: 0.5 });
    expect(body.total.patterns.newBuyers).toEqual({ count: 4, secondPurchaseWithin30Days: 2, share: 0.5 });
    // Gifts: b1→b2 credits (answered on day 1), b3→b1 the hat (unanswered); b2→b1 on day 1 (unanswered).
    expect([d0, d1].map((d) => d.patterns.gifts)).toEqual([
      { count: 2, answered: 1, reciprocity: 0.5 },
      { count: 1, answered: 0, reciprocity: 0 },
    ]);
    expect(body.total.patterns.gifts).toEqual({ count: 3, answered: 1, reciprocity: 1 / 3 });

    // Supply: what the window minted and burned, and now equal to the ledger's own sums.
    const verify = await ledger(t).verify();
    for (const asset of ['CREDIT', 'PROMO', 'DEV_TOKEN'] as const) {
      const s = body.supply.assets[asset];
      expect(s.minted).toBe(Number(verify.assets[asset].minted));
      expect(s.burned).toBe(Number(verify.assets[asset].burned));
      expect(s.outstanding).toBe(Number(verify.assets[asset].supply - verify.assets[asset].burned));
      expect(Object.values(s.byAccount as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(s.outstanding);
    }
    const atStart = (await report(`${range()}&at=${t0.toISOString()}`).expect(200)).body.supply.assets;
    expect(atStart).toEqual(supplyBefore);
    const now = body.supply.assets;
    // Two packages of 5,000 credits; one DEV_TOKEN for the PROMO sale; the PROMO price burned.
    expect(now.CREDIT.minted - atStart.CREDIT.minted).toBe(10_000);
    expect(now.DEV_TOKEN.minted - atStart.DEV_TOKEN.minted).toBe(1);
    expect(now.PROMO.minted - atStart.PROMO.minted).toBe(0);
    expect(now.PROMO.burned - atStart.PROMO.burned).toBe(1100);
    expect(now.CREDIT.burned - atStart.CREDIT.burned).toBe(0);
    expect(body.supply.checked).toMatch(/balance rows/);

    const csv = await as(t, admin).get(`/admin/economy/report.csv?${range()}`).expect(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const [header, ...lines] = (csv.text as string).trim().split('\n');
    const columns = header.split(',');
    expect(lines).toHaveLength(5);
    const value = (line: string, column: string) => line.split(',')[columns.indexOf(column)];
    expect(lines.map((l) => value(l, 'row'))).toEqual(['interval', 'interval', 'interval', 'interval', 'total']);
    expect(lines.map((l) => value(l, 'money.gmv.CREDIT.amount'))).toEqual(['8250', '330', '5500', '0', '14080']);
    expect(value(lines[4], 'harm.chargebacks.amounts.USD.cents')).toBe('499');
    expect(value(lines[0], 'harm.chargebacks.amounts.USD.cents')).toBe('0');
    expect(value(lines[2], 'harm.takeovers.medianSecondsToContain')).toBe(String(contained));
  });

  it('records each harm budget breach once, mails the admins, counts and gauges it, shows it until it clears', async () => {
    // The history's jobs runs already checked the budgets: the chargeback on day 1 (1 of 3 payments settled in 30 days:
    // the reseller's wholesale and bond packages, the stolen card), the lost reseller order and the approved review on day 2.
    const breaches = await t.sql<{ budget: string; status: string; numerator: string; denominator: string }>(
      `SELECT budget, status, numerator::text, denominator::text FROM harm_budget_breaches ORDER BY budget`,
    );
    expect(breaches).toEqual([
      { budget: 'chargeback_rate', status: 'open', numerator: '1', denominator: '3' },
      { budget: 'reseller_dispute_loss_rate', status: 'open', numerator: '1', denominator: '1' },
      { budget: 'review_false_positive_share', status: 'open', numerator: '1', denominator: '1' },
    ]);
    await runJobs();
    expect(await t.sql(`SELECT count(*)::int AS n FROM harm_budget_breaches`)).toEqual([{ n: 3 }]);
    const shown = (await report(range()).expect(200)).body.harmBudgets.breaches;
    expect(shown.map((b: { budget: string; status: string; thresholdBp: number }) => [b.budget, b.status, b.thresholdBp])).toEqual([
      ['chargeback_rate', 'open', 65],
      ['reseller_dispute_loss_rate', 'open', 200],
      ['review_false_positive_share', 'open', 5000],
    ]);
    const mails = (await t.http().get(`/dev/mailbox/${admin.email}`).expect(200)).body.items as {
      data: { kind?: string; budget?: string };
    }[];
    expect(
      mails
        .filter((m) => m.data.kind === 'economy.harm_budget_breached')
        .map((m) => m.data.budget)
        .sort(),
    ).toEqual(['chargeback_rate', 'reseller_dispute_loss_rate', 'review_false_positive_share']);

    const metrics = (await t.http().get('/metrics').expect(200)).text;
    const metric = (line: string) => Number(new RegExp(`^${line.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(metrics)?.[1]);
    for (const budget of ['chargeback_rate', 'reseller_dispute_loss_rate', 'review_false_positive_share'])
      expect(metric(`harm_budget_breaches_total{budget="${budget}"}`)).toBe(1);
    // The last check (day 3): 1 chargeback of 4 payments (the refunded one settled too), 1 of 1 reseller order lost, 1 of 1 review approved.
    expect(metric('economy_harm_rate{budget="chargeback_rate"}')).toBe(0.25);
    expect(metric('economy_harm_rate{budget="reseller_dispute_loss_rate"}')).toBe(1);
    expect(metric('economy_harm_rate{budget="review_false_positive_share"}')).toBe(1);
    expect(metric('economy_gmv_credits{asset="CREDIT"}')).toBe(14_080);
    expect(metric('economy_gmv_credits{asset="PROMO"}')).toBe(1100);
    const supply = (await report(range()).expect(200)).body.supply.assets;
    for (const asset of ['CREDIT', 'PROMO', 'DEV_TOKEN'])
      expect(metric(`economy_supply_outstanding{asset="${asset}"}`)).toBe(supply[asset].outstanding);

    // A month later nothing happened in the window: every budget is back under and the breaches clear.
    await t
      .http()
      .post('/dev/clock')
      .send({ advanceSeconds: 31 * DAY })
      .expect(200);
    await signInAgain(t, admin);
    await runJobs();
    expect(await t.sql(`SELECT budget, status FROM harm_budget_breaches WHERE cleared_at IS NOT NULL ORDER BY budget`)).toEqual([
      { budget: 'chargeback_rate', status: 'cleared' },
      { budget: 'reseller_dispute_loss_rate', status: 'cleared' },
      { budget: 'review_false_positive_share', status: 'cleared' },
    ]);
    expect((await report(range()).expect(200)).body.harmBudgets.breaches).toEqual([]);
    await runJobs();
    expect(await t.sql(`SELECT count(*)::int AS n FROM harm_budget_breaches`)).toEqual([{ n: 3 }]);
  });

  it("fails loudly when the supply disagrees with the ledger's own sums", async () => {
    const [{ id }] = await t.sql<{ id: string }>(
      `SELECT id::text FROM ledger_accounts WHERE owner_id = $1 AND asset = 'CREDIT' AND name = 'wallet'`,
      [b1.id],
    );
    await t.sql(`UPDATE ledger_balances SET balance = balance + 1 WHERE account_id = $1`, [id]);
    try {
      const res = await report(range()).expect(500);
      expect(res.body.code).toBe('SUPPLY_MISMATCH');
      expect(res.body.detail).toMatch(/CREDIT\/wallet: postings sum to \d+, balances to \d+/);
      // A point in time is read from the postings alone, which still sum to zero.
      await report(`${range()}&at=${t0.toISOString()}`).expect(200);
    } finally {
      await t.sql(`UPDATE ledger_balances SET balance = balance - 1 WHERE account_id = $1`, [id]);
    }
    await report(range()).expect(200);
  });
});

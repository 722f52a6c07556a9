import { randomUUID } from 'node:crypto';
import Stripe from 'stripe';
import { PaymentsWholesale1763900021000 } from '../../migrations/1763900021000-PaymentsWholesale';
import { ReviewsService } from '../../src/fraud/reviews.service';
import { Asset, systemAccount, UserAccountName, userAccount } from '../../src/ledger/ledger.service';
import { PaymentsHistoryService } from '../../src/payments/history/payments-history.service';
import { purchaseIdFor } from '../../src/payments/purchases/token-purchases.service';
import { StripeEventsService } from '../../src/payments/webhooks/stripe-events.service';
import { tableOf } from '../schema/schema-dump';
import { expectRoundTrip } from '../support/migration-round-trip';
import { deliverEvent, FakeStripe, startFakeStripe } from '../support/fake-stripe';
import {
  Actor,
  as,
  disableFraudRule,
  fund,
  GIFT_TO_NEW_LINKED_ACCOUNT_RULE,
  ledger,
  makeAdmin,
  owe,
  publishListing,
  signUp,
  signUpCreator,
  whileKeyIsDecided,
} from '../support/market-fixtures';
import { Applicant, approvedReseller, eligibleApplicants } from '../support/reseller-fixtures';
import { startTestApp, TestApp } from '../support/test-app';

type Package = { id: string; priceCents: number; credits: number; bonusPromo: number };
type Created = { id: string; status: string; paymentIntentId: string; clientSecret: string };

/** A retail price whose wholesale price (15% off, rounded up) is not a whole number of cents before rounding. */
const RETAIL = 9999;
const WHOLESALE = 8500;
const CREDITS = 100_000;
/** The suite's own fraud rule: wholesale requests for the package priced REVIEWED_RETAIL are reviewed. */
const REVIEWED_RETAIL = 7777;
const REVIEWED_WHOLESALE = 6611;
/** Approved resellers made in beforeAll, one per test that needs one. */
const RESELLERS = 15;

/**
 * Wholesale purchases (issue 14, the payments side): resellers buy reseller-only packages through
 * Stripe exactly like token packages, and the credits are minted once into `reseller_stock` at the
 * wholesale price, without PROMO. The suite's resellers are vetted and approved through the real flow,
 * all at once in beforeAll (ageing accounts moves the business clock, which ends every session).
 */
describe('wholesale purchases into reseller stock', () => {
  let t: TestApp;
  let fake: FakeStripe;
  let stripe: Stripe;
  let admin: Actor;
  let admin2: Actor;
  let bulk: Package;
  const pool: Applicant[] = [];

  beforeAll(async () => {
    const started = await startFakeStripe();
    fake = started.fake;
    t = await startTestApp({ ...started.env, FRAUD_RULES_CACHE_MS: '0' });
    stripe = new Stripe(started.env.STRIPE_SECRET_KEY, { ...fake.clientOptions, maxNetworkRetries: 0 });
    admin = await makeAdmin(t, await signUp(t, 'admin'));
    admin2 = await makeAdmin(t, await signUp(t, 'admin2'));
    await disableFraudRule(t, admin, GIFT_TO_NEW_LINKED_ACCOUNT_RULE);
    for (const applicant of await eligibleApplicants(t, RESELLERS, [admin, admin2], 'reseller')) {
      pool.push((await approvedReseller(t, admin, admin2, applicant)).reseller);
    }
    bulk = await createPackage({ name: 'Bulk', priceCents: RETAIL, credits: CREDITS, audience: 'reseller' });
  });
  afterAll(async () => {
    await t?.close();
    await fake?.stop();
  });
  afterEach(async () => {
    const verify = await as(t, admin).get('/admin/ledger/verify').expect(200);
    expect(verify.body.problems).toEqual([]);
    expect(verify.body.ok).toBe(true);
  });

  async function createPackage(body: object): Promise<Package> {
    return (
      await as(t, admin)
        .post('/admin/token-packages', { currency: 'USD', ...body })
        .expect(201)
    ).body;
  }
  async function reseller(): Promise<Actor> {
    const next = pool.shift();
    if (!next) throw new Error(`the suite needs more than RESELLERS (${RESELLERS}) resellers`);
    return next;
  }
  const buyWholesale = (a: Actor, packageId = bulk.id, key?: string) => as(t, a).post('/reseller/wholesale-purchases', { packageId }, key);
  const bought = async (a: Actor, packageId = bulk.id) => (await buyWholesale(a, packageId).expect(201)).body as Created;
  const runJobs = async () => (await t.http().post('/dev/jobs/run').expect(200)).body as { processed: number; failed: number };
  const view = async (id: string) => (await as(t, admin).get(`/token-purchases/${id}`).expect(200)).body;
  const balance = async (userId: string, name: UserAccountName, asset: Asset = 'CREDIT') => {
    const b = await ledger(t).balance(userAccount(userId, asset, name));
    return { posted: Number(b.posted), held: Number(b.held) };
  };
  const posted = async (userId: string, name: UserAccountName, asset: Asset = 'CREDIT') => (await balance(userId, name, asset)).posted;
  const eventFor = (type: string, piId: string) =>
    fake.events.filter((e) => e.type === type && JSON.stringify(e.data.object).includes(piId)).at(-1)!;
  /** The customer pays, always with the same card (the default rules block a fourth card in a day). */
  async function pay(created: Created) {
    fake.succeed(created.paymentIntentId, { fingerprint: 'fp_wholesale_suite' });
    await deliverEvent(t, fake, eventFor('payment_intent.succeeded', created.paymentIntentId)).expect(200);
    await runJobs();
  }
  /** Credits leaving the stock as a reseller order would take them (into escrow); the orders themselves are another part. */
  const intoEscrow = (userId: string, amount: number) =>
    t.dataSource.transaction((em) =>
      ledger(t).post(em, {
        kind: 'test_reseller_order',
        reference: `test_reseller_order:${randomUUID()}`,
        postings: [
          { account: userAccount(userId, 'CREDIT', 'reseller_stock'), amount: BigInt(-amount) },
          { account: systemAccount('escrow', 'CREDIT'), amount: BigInt(amount) },
        ],
      }),
    );
  const decisionTypes = async (subjectId: string) =>
    (
      await t.sql<{ event_type: string }>(`SELECT event_type FROM fraud_decisions WHERE subject_id = $1 ORDER BY created_at`, [subjectId])
    ).map((d) => d.event_type);

  describe('packages', () => {
    it('lets admins create reseller packages, never with bonus PROMO (400), and keeps them out of the public list', async () => {
      expect(bulk).toMatchObject({ audience: 'reseller', priceCents: RETAIL, bonusPromo: 0, active: true });
      const withPromo = await as(t, admin).post('/admin/token-packages', {
        name: 'Bonus bulk',
        priceCents: 5000,
        currency: 'USD',
        credits: 50_000,
        bonusPromo: 1,
        audience: 'reseller',
      });
      expect([withPromo.status, withPromo.body.code, withPromo.body.errors]).toEqual([
        400,
        'VALIDATION_FAILED',
        [{ field: 'bonusPromo', message: 'must be 0 for a reseller package' }],
      ]);
      expect(
        (await as(t, admin).post('/admin/token-packages', { name: 'x', priceCents: 1, currency: 'USD', credits: 1, audience: 'vip' }))
          .status,
      ).toBe(400);
      const popular = (await t.http().get('/token-packages').expect(200)).body.items.find((p: { name: string }) => p.name === 'Popular');
      expect((await as(t, admin).patch(`/admin/token-packages/${popular.id}`, { audience: 'reseller' }).expect(400)).body.code).toBe(
        'VALIDATION_FAILED',
      );
      expect((await as(t, admin).patch(`/admin/token-packages/${bulk.id}`, { bonusPromo: 10 }).expect(400)).body.code).toBe(
        'VALIDATION_FAILED',
      );
      // The database refuses it too, whoever writes.
      await expect(t.sql(`UPDATE token_packages SET bonus_promo = 1 WHERE id = $1`, [bulk.id])).rejects.toMatchObject({ code: '23514' });

      const publicIds = (await t.http().get('/token-packages?limit=200').expect(200)).body.items.map((p: { id: string }) => p.id);
      expect(publicIds).toContain(popular.id);
      expect(publicIds).not.toContain(bulk.id);
      const adminList = (await as(t, admin).get('/admin/token-packages?limit=200').expect(200)).body.items;
      expect(adminList.find((p: { id: string }) => p.id === bulk.id)).toMatchObject({ audience: 'reseller' });
      expect(adminList.find((p: { id: string }) => p.id === popular.id)).toMatchObject({ audience: 'public' });
      const audit = await t.sql<{ action: string; data: { after: { audience: string } } }>(
        `SELECT action, data FROM audit_log WHERE subject_id = $1 ORDER BY seq`,
        [bulk.id],
      );
      expect(audit.map((a) => [a.action, a.data.after.audience])).toEqual([['token_package.create', 'reseller']]);
    });

    it('lists the active reseller packages to resellers only, with the wholesale price', async () => {
      const retired = await createPackage({
        name: 'Retired bulk',
        priceCents: 20_000,
        credits: 200_000,
        audience: 'reseller',
        active: false,
      });
      const r = await reseller();
      const res = await as(t, r).get('/reseller/wholesale-packages?limit=200').expect(200);
      expect(res.body.items.find((p: { id: string }) => p.id === bulk.id)).toEqual({
        id: bulk.id,
        name: 'Bulk',
        retailPriceCents: RETAIL,
        priceCents: WHOLESALE,
        currency: 'USD',
        credits: CREDITS,
        discountPercent: 15,
      });
      const ids = res.body.items.map((p: { id: string }) => p.id);
      expect(ids).not.toContain(retired.id);
      const publicIds = (await t.http().get('/token-packages?limit=200').expect(200)).body.items.map((p: { id: string }) => p.id);
      expect(ids.filter((id: string) => publicIds.includes(id))).toEqual([]);
      const buyer = await signUp(t, 'buyer');
      expect((await as(t, buyer).get('/reseller/wholesale-packages').expect(403)).body.code).toBe('FORBIDDEN');
      await t.http().get('/reseller/wholesale-packages').expect(401);
    });
  });

  describe('buying', () => {
    it('charges the wholesale price, and the webhook mints the credits once into reseller_stock, with no PROMO', async () => {
      const r = await reseller();
      const key = randomUUID();
      const created = (await buyWholesale(r, bulk.id, key).expect(201)).body as Created;
      expect(created).toEqual({
        id: purchaseIdFor(r.id, key),
        status: 'pending',
        paymentIntentId: expect.stringMatching(/^pi_/),
        clientSecret: expect.stringMatching(/_secret_/),
      });
      expect(fake.paymentIntent(created.paymentIntentId)).toMatchObject({
        amount: WHOLESALE,
        currency: 'usd',
        metadata: { purchase_id: created.id, user_id: r.id },
      });
      expect(await view(created.id)).toMatchObject({
        destination: 'reseller_stock',
        status: 'pending',
        priceCents: WHOLESALE,
        retailPriceCents: RETAIL,
        credits: CREDITS,
        bonusPromo: 0,
      });
      // The request is decided as a wholesale purchase, never as a token purchase.
      expect(await decisionTypes(created.id)).toEqual(['wholesale_purchase']);
      const promoBefore = await posted(r.id, 'wallet', 'PROMO');

      fake.succeed(created.paymentIntentId);
      const event = eventFor('payment_intent.succeeded', created.paymentIntentId);
      const answers = await Promise.all(Array.from({ length: 5 }, () => deliverEvent(t, fake, event)));
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
      expect(answers.filter((a) => a.body.duplicate === false)).toHaveLength(1);
      await runJobs();
      // The same news again under another event id (a replay of the webhook) finds nothing left to do.
      await deliverEvent(t, fake, fake.emit('payment_intent.succeeded', fake.paymentIntent(created.paymentIntentId) as never)).expect(200);
      await runJobs();

      expect(await view(created.id)).toMatchObject({ status: 'succeeded', creditsGranted: CREDITS, promoGranted: 0, heldForReview: false });
      expect(await posted(r.id, 'reseller_stock')).toBe(CREDITS);
      expect(await posted(r.id, 'wallet')).toBe(0);
      expect(await posted(r.id, 'wallet', 'PROMO')).toBe(promoBefore);
      const entries = await t.sql<{ kind: string; reference: string }>(
        `SELECT kind, reference FROM ledger_entries WHERE metadata->>'purchaseId' = $1`,
        [created.id],
      );
      expect(entries).toEqual([{ kind: 'mint', reference: `token_purchase:${created.id}:mint` }]);
      expect(await decisionTypes(created.id)).toEqual(['wholesale_purchase', 'payment_succeeded']);
      const balances = (await as(t, r).get('/me/balances').expect(200)).body;
      expect(JSON.stringify(balances)).toContain('reseller_stock');
    });

    it('mints once when different events of the same payment are processed at the same time', async () => {
      const r = await reseller();
      const created = await bought(r);
      fake.succeed(created.paymentIntentId);
      const events = [
        eventFor('payment_intent.succeeded', created.paymentIntentId),
        fake.emit('payment_intent.succeeded', fake.paymentIntent(created.paymentIntentId) as never),
        fake.emit('payment_intent.succeeded', fake.paymentIntent(created.paymentIntentId) as never),
      ];
      for (const e of events) await deliverEvent(t, fake, e).expect(200);
      const processor = t.app.get(StripeEventsService);
      await Promise.all(events.map((e) => processor.process(e.id)));
      await runJobs();
      expect(await posted(r.id, 'reseller_stock')).toBe(CREDITS);
      const [{ n }] = await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM ledger_entries WHERE metadata->>'purchaseId' = $1`, [
        created.id,
      ]);
      expect(n).toBe(1);
    });

    it('refuses non-resellers (403), and packages of the other audience (404) without asking Stripe', async () => {
      const buyer = await signUp(t, 'buyer');
      expect((await buyWholesale(buyer).expect(403)).body.code).toBe('FORBIDDEN');
      const r = await reseller();
      const popular = (await t.http().get('/token-packages').expect(200)).body.items.find((p: { name: string }) => p.name === 'Popular');
      const intents = () => fake.requests.filter((x) => x.path === '/v1/payment_intents').length;
      const before = intents();
      // A reseller package is not sold through POST /token-purchases, to anyone; a public one is no wholesale package.
      for (const a of [buyer, r]) {
        expect((await as(t, a).post('/token-purchases', { packageId: bulk.id }).expect(404)).body.code).toBe('NOT_FOUND');
      }
      expect((await buyWholesale(r, popular.id).expect(404)).body.code).toBe('NOT_FOUND');
      expect((await buyWholesale(r, randomUUID()).expect(404)).body.code).toBe('NOT_FOUND');
      const retired = await createPackage({ name: 'Old bulk', priceCents: 3000, credits: 30_000, audience: 'reseller', active: false });
      expect((await buyWholesale(r, retired.id).expect(409)).body.code).toBe('INVALID_STATE');
      expect(intents()).toBe(before);
      expect(await t.sql(`SELECT id FROM token_purchases WHERE user_id = ANY($1)`, [[buyer.id, r.id]])).toEqual([]);
      // A reseller still buys public token packages into the wallet.
      const own = (await as(t, r).post('/token-purchases', { packageId: popular.id }).expect(201)).body;
      expect(await view(own.id)).toMatchObject({ destination: 'wallet', retailPriceCents: null, priceCents: popular.priceCents });
    });

    it('sells stock only to an active reseller: suspended, it is 403 NOT_ACTIVE_RESELLER until reinstated', async () => {
      const r = await reseller();
      const status = (action: string) =>
        as(t, admin)
          .post(`/admin/resellers/${r.id}/${action}`, { note: `${action} for the test` })
          .expect(200);
      await status('suspend');
      expect((await buyWholesale(r).expect(403)).body).toMatchObject({ code: 'FORBIDDEN', reason: 'NOT_ACTIVE_RESELLER' });
      expect(await t.sql(`SELECT id FROM token_purchases WHERE user_id = $1`, [r.id])).toEqual([]);
      await status('reinstate');
      await pay(await bought(r));
      expect(await posted(r.id, 'reseller_stock')).toBe(CREDITS);
    });

    it('is idempotent: a replay answers the first response, another body or route is 422, a key being decided is 409', async () => {
      const r = await reseller();
      const other = await createPackage({ name: 'Small bulk', priceCents: 1000, credits: 10_000, audience: 'reseller' });
      const key = randomUUID();
      const first = await buyWholesale(r, bulk.id, key).expect(201);
      const replay = await buyWholesale(r, bulk.id, key).expect(201);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.body).toEqual(first.body);
      expect((await buyWholesale(r, other.id, key).expect(422)).body.code).toBe('IDEMPOTENCY_KEY_REUSED');
      const popular = (await t.http().get('/token-packages').expect(200)).body.items[0];
      expect((await as(t, r).post('/token-purchases', { packageId: popular.id }, key).expect(422)).body.code).toBe(
        'IDEMPOTENCY_KEY_REUSED',
      );
      expect(
        fake.requests.filter((x) => x.path === '/v1/payment_intents' && x.idempotencyKey === `token_purchase:${first.body.id}`),
      ).toHaveLength(1);

      const held = randomUUID();
      await whileKeyIsDecided(t, r.id, held, async () => {
        expect((await buyWholesale(r, bulk.id, held).expect(409)).body.code).toBe('IDEMPOTENCY_IN_PROGRESS');
      });
      await t
        .http()
        .post('/reseller/wholesale-purchases')
        .set('Authorization', `Bearer ${r.token}`)
        .send({ packageId: bulk.id })
        .expect(400);

      // The same request sent five times at once makes one purchase and one PaymentIntent.
      const racing = randomUUID();
      const answers = await Promise.all(Array.from({ length: 5 }, () => buyWholesale(r, bulk.id, racing)));
      const ok = answers.filter((a) => a.status === 201);
      expect(ok.length).toBeGreaterThanOrEqual(1);
      for (const a of answers) expect(a.status === 201 || (a.status === 409 && a.body.code === 'IDEMPOTENCY_IN_PROGRESS')).toBe(true);
      expect(new Set(ok.map((a) => a.body.paymentIntentId)).size).toBe(1);
      const rows = await t.sql(`SELECT id FROM token_purchases WHERE user_id = $1 AND idempotency_key = $2`, [r.id, racing]);
      expect(rows).toHaveLength(1);
    });
  });

  describe('refunds and disputes', () => {
    it('claws a refund back from reseller_stock first, then wallet, then earnings, and the rest becomes debt', async () => {
      const r = await reseller();
      const created = await bought(r);
      await pay(created);
      await intoEscrow(r.id, 96_000);
      await fund(t, r.id, 'CREDIT', 1_000, 'wallet');
      await fund(t, r.id, 'CREDIT', 500, 'earnings');
      const refunded = await as(t, admin).post(`/admin/token-purchases/${created.id}/refund`, { reason: 'reseller asked' }).expect(200);
      expect(refunded.body).toMatchObject({ status: 'refunded', refundedCents: WHOLESALE, creditsGranted: 0 });
      // 100,000 minted, 96,000 in escrow: 4,000 from stock, 1,000 from wallet, 500 from earnings, 94,500 owed.
      expect(await posted(r.id, 'reseller_stock')).toBe(0);
      expect(await posted(r.id, 'wallet')).toBe(0);
      expect(await posted(r.id, 'earnings')).toBe(0);
      expect(await posted(r.id, 'debt')).toBe(-94_500);
      const [clawback] = await t.sql<{ metadata: { debt: string } }>(
        `SELECT metadata FROM ledger_entries WHERE kind = 'clawback' AND metadata->>'purchaseId' = $1`,
        [created.id],
      );
      expect(clawback.metadata.debt).toBe('94500');
    });

    it('keeps the unrefunded share of a partial refund in the stock', async () => {
      const r = await reseller();
      const created = await bought(r);
      await pay(created);
      await stripe.refunds.create({ payment_intent: created.paymentIntentId, amount: 850 });
      await deliverEvent(t, fake, eventFor('charge.refunded', created.paymentIntentId)).expect(200);
      await runJobs();
      // 100,000 × 850 / 8,500 = 10,000 back.
      expect(await view(created.id)).toMatchObject({ status: 'succeeded', refundedCents: 850, creditsGranted: 90_000 });
      expect(await posted(r.id, 'reseller_stock')).toBe(90_000);
    });

    it('takes a disputed purchase back from the stock, and a won dispute gives it back, repaying only the debt it made', async () => {
      const r = await reseller();
      const created = await bought(r);
      await pay(created);
      await intoEscrow(r.id, 60_000);
      await deliverEvent(t, fake, fake.dispute(created.paymentIntentId)).expect(200);
      await runJobs();
      expect(await view(created.id)).toMatchObject({ status: 'disputed', creditsGranted: 0, dispute: { status: 'open' } });
      expect(await posted(r.id, 'reseller_stock')).toBe(0);
      expect(await posted(r.id, 'debt')).toBe(-60_000);

      await deliverEvent(t, fake, fake.closeDispute(created.paymentIntentId, 'won')).expect(200);
      await runJobs();
      expect(await view(created.id)).toMatchObject({ status: 'succeeded', creditsGranted: CREDITS, dispute: { status: 'won' } });
      expect(await posted(r.id, 'debt')).toBe(0);
      expect(await posted(r.id, 'reseller_stock')).toBe(40_000);
      expect(await posted(r.id, 'wallet')).toBe(0);
    });

    it('mints into the stock without repaying older debt (stock is for orders only)', async () => {
      const r = await reseller();
      await owe(t, r.id, 700n);
      const created = await bought(r);
      await pay(created);
      expect(await posted(r.id, 'reseller_stock')).toBe(CREDITS);
      expect(await posted(r.id, 'debt')).toBe(-700);
      // A token package bought into the wallet repays it, as always.
      const popular = (await t.http().get('/token-packages').expect(200)).body.items.find((p: { name: string }) => p.name === 'Popular');
      await pay((await as(t, r).post('/token-purchases', { packageId: popular.id }).expect(201)).body);
      expect(await posted(r.id, 'debt')).toBe(0);
      expect(await posted(r.id, 'wallet')).toBe(popular.credits - 700);
    });
  });

  describe('fraud review of a wholesale purchase', () => {
    let reviewed: Package;
    beforeAll(async () => {
      reviewed = await createPackage({ name: 'Reviewed bulk', priceCents: REVIEWED_RETAIL, credits: 77_000, audience: 'reseller' });
      await as(t, admin)
        .post('/admin/fraud/rules', {
          name: 'test-review-wholesale',
          eventTypes: ['wholesale_purchase'],
          condition: { '==': [{ var: 'event.amountCents' }, REVIEWED_WHOLESALE] },
          action: 'REVIEW',
          score: 0,
          mode: 'ACTIVE',
        })
        .expect(201);
    });
    const decide = async (purchaseId: string, action: 'approve' | 'reject') => {
      const reviews = t.app.get(ReviewsService);
      const review = await reviews.forSubject('wholesale_purchase', purchaseId);
      await reviews.decide(review!.id, admin.id, action, `test ${action}`);
    };

    it('holds the minted stock while the request is reviewed; approval releases it', async () => {
      const r = await reseller();
      const created = await bought(r, reviewed.id);
      expect(fake.paymentIntent(created.paymentIntentId).amount).toBe(REVIEWED_WHOLESALE);
      expect(await t.app.get(ReviewsService).forSubject('wholesale_purchase', created.id)).toMatchObject({ status: 'open' });
      await pay(created);
      expect(await view(created.id)).toMatchObject({ status: 'succeeded', creditsGranted: 77_000, heldForReview: true });
      expect(await balance(r.id, 'reseller_stock')).toEqual({ posted: 77_000, held: 77_000 });
      await decide(created.id, 'approve');
      expect(await view(created.id)).toMatchObject({ heldForReview: false, creditsGranted: 77_000 });
      expect(await balance(r.id, 'reseller_stock')).toEqual({ posted: 77_000, held: 0 });
    });

    it('claws the stock back and refunds through Stripe when the review is rejected', async () => {
      const r = await reseller();
      const created = await bought(r, reviewed.id);
      await pay(created);
      await decide(created.id, 'reject');
      expect(await balance(r.id, 'reseller_stock')).toEqual({ posted: 0, held: 0 });
      await runJobs();
      expect(await view(created.id)).toMatchObject({ status: 'refunded', creditsGranted: 0, fraudRefusal: 'rejected' });
      expect(
        fake.requests.filter((x) => x.path === '/v1/refunds' && x.idempotencyKey === `token_purchase:${created.id}:refund`),
      ).not.toHaveLength(0);
      expect(await posted(r.id, 'debt')).toBe(0);
    });
  });

  describe('what reseller stock cannot do', () => {
    it('pays for no item and no credit gift (INSUFFICIENT_FUNDS): purchases draw wallet and earnings, gifts the wallet', async () => {
      const creator = await signUpCreator(t);
      const hat = await publishListing(t, creator, admin, { title: 'Hat', profit: 1000 });
      const r = await reseller(); // vetted, so its email is verified
      await pay(await bought(r));
      expect(await posted(r.id, 'reseller_stock')).toBe(CREDITS);

      const order = await as(t, r).post('/orders', { listingId: hat.id }).expect(409);
      expect(order.body.code).toBe('INSUFFICIENT_FUNDS');
      const recipient = await signUp(t, 'friend');
      const gift = await as(t, r).post('/credit-transfers', { toUserId: recipient.id, amount: 1_000 }).expect(409);
      expect(gift.body.code).toBe('INSUFFICIENT_FUNDS');
      expect(await posted(r.id, 'reseller_stock')).toBe(CREDITS);
      expect(await posted(recipient.id, 'wallet')).toBe(0);
    });
  });

  describe('history reads for the resellers module', () => {
    it('counts purchases by outcome, sums the charges and the standing wholesale credits', async () => {
      const r = await reseller();
      const history = t.app.get(PaymentsHistoryService);
      expect(await history.forUser(r.id)).toEqual({
        purchases: 0,
        succeeded: 0,
        refunded: 0,
        disputed: 0,
        chargebacksLost: 0,
        totalCentsByCurrency: {},
        recent: [],
      });
      const kept = await bought(r);
      await pay(kept);
      const refunded = await bought(r);
      await pay(refunded);
      await as(t, admin).post(`/admin/token-purchases/${refunded.id}/refund`, { reason: 'x' }).expect(200);
      const pending = await bought(r);
      const popular = (await t.http().get('/token-packages').expect(200)).body.items.find((p: { name: string }) => p.name === 'Popular');
      const wallet = (await as(t, r).post('/token-purchases', { packageId: popular.id }).expect(201)).body;
      await pay(wallet);
      // Last: a dispute puts the account on hold, which stops buying.
      const lost = await bought(r);
      await pay(lost);
      await deliverEvent(t, fake, fake.dispute(lost.paymentIntentId)).expect(200);
      await deliverEvent(t, fake, fake.closeDispute(lost.paymentIntentId, 'lost')).expect(200);
      await runJobs();

      const report = await history.forUser(r.id);
      expect(report).toMatchObject({
        purchases: 5,
        succeeded: 2,
        refunded: 1,
        disputed: 1,
        chargebacksLost: 1,
        totalCentsByCurrency: { USD: 3 * WHOLESALE + popular.priceCents },
      });
      expect(report.recent.map((p) => p.id)).toEqual([lost.id, wallet.id, pending.id, refunded.id, kept.id]);
      expect(report.recent[1]).toEqual({
        id: wallet.id,
        status: 'succeeded',
        priceCents: popular.priceCents,
        currency: 'USD',
        credits: popular.credits,
        destination: 'wallet',
        createdAt: expect.any(String),
        dispute: null,
      });
      expect(report.recent[0]).toMatchObject({ destination: 'reseller_stock', status: 'disputed', dispute: { status: 'lost' } });
      // Only the kept wholesale purchase still grants its credits; the wallet purchase is not wholesale.
      expect(await history.wholesaleCredited(r.id)).toBe(BigInt(CREDITS));
      expect(await posted(r.id, 'reseller_stock')).toBe(CREDITS);
    });
  });

  it('describes the reseller routes in OpenAPI', async () => {
    const docs = (await t.http().get('/docs-json').expect(200)).body;
    expect(docs.paths['/reseller/wholesale-packages'].get.summary).toEqual(expect.any(String));
    const post = docs.paths['/reseller/wholesale-purchases'].post;
    expect(post.summary).toEqual(expect.any(String));
    expect(Object.keys(post.responses)).toEqual(expect.arrayContaining(['201', '403', '404', '422']));
  });
});

describe('migration 1763900021000 (wholesale purchases)', () => {
  it('goes down to the schema before it and up again', async () => {
    await expectRoundTrip([new PaymentsWholesale1763900021000()], (down) => {
      expect(down).not.toMatch(/token_purchase_destination_guard|token_purchases_wholesale|reseller_no_promo/);
      expect(tableOf(down, 'token_purchases')).not.toMatch(/destination|retail_price_cents|clawed_debt/);
      expect(tableOf(down, 'token_packages')).not.toContain('audience');
    });
  });
});

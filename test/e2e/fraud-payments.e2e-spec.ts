import { randomUUID } from 'node:crypto';
import { PaymentsFraud1763900015000 } from '../../migrations/1763900015000-PaymentsFraud';
import { PaymentsWholesale1763900021000 } from '../../migrations/1763900021000-PaymentsWholesale';
import { Clock } from '../../src/common/clock.service';
import { AppError } from '../../src/common/errors';
import { addHours } from '../../src/common/time';
import { RulesService } from '../../src/fraud/rules.service';
import { ReviewsService } from '../../src/fraud/reviews.service';
import type { FraudEventType } from '../../src/fraud/fraud.types';
import { LedgerService } from '../../src/ledger/ledger.service';
import { Asset, systemAccount, userAccount } from '../../src/ledger/ledger.types';
import { PurchaseRefundsService } from '../../src/payments/purchases/purchase-refunds.service';
import { purchaseIdFor } from '../../src/payments/purchases/token-purchases.service';
import { signUp, SignedUpUser } from '../support/auth';
import { deliverEvent, FakeStripe, startFakeStripe } from '../support/fake-stripe';
import type { FakeCard } from '../../src/payments/sandbox/fake-stripe';
import { tableOf } from '../schema/schema-dump';
import { expectRoundTrip } from '../support/migration-round-trip';
import { startTestApp, TestApp } from '../support/test-app';

type User = SignedUpUser;
type Package = { id: string; priceCents: number; credits: number; bonusPromo: number };
type Created = { id: string; paymentIntentId: string };

const COUNTRY_HEADER = 'X-Client-Country';
const RULE = {
  velocity: '00000000-0000-4000-8000-00000000f004',
  cards: '00000000-0000-4000-8000-00000000f005',
  countries: '00000000-0000-4000-8000-00000000f006',
  riskElevated: '00000000-0000-4000-8000-00000000f007',
  riskHigh: '00000000-0000-4000-8000-00000000f008',
};
/** A rule of this suite's own: the default rules never review a request, only payments. */
const REVIEWED_PRICE = 777;
const TEST_RULE = { id: '00000000-0000-4000-8000-0000000ee001', version: '00000000-0000-4000-8000-0000000ee101' };

/**
 * The fraud engine on token purchases, with the default rules the migration installs (plus one
 * rule that reviews requests for the test package priced 777): `token_purchase` before the
 * PaymentIntent, `payment_succeeded` when the signed webhook's success is applied, and how admins'
 * review decisions finish purchases. Decisions go through ReviewsService.decide, the service behind
 * the admin review routes.
 */
describe('fraud checks of token purchases', () => {
  let t: TestApp;
  let fake: FakeStripe;
  let ledger: LedgerService;
  let reviews: ReviewsService;
  let admin: User;
  let popular: Package;
  let reviewed: Package;

  beforeAll(async () => {
    const started = await startFakeStripe();
    fake = started.fake;
    t = await startTestApp({ ...started.env, FRAUD_IP_COUNTRY_HEADER: COUNTRY_HEADER, FRAUD_RULES_CACHE_MS: '0' });
    ledger = t.app.get(LedgerService);
    reviews = t.app.get(ReviewsService);
    admin = await signUp(t);
    await t.sql(`UPDATE users SET roles = array_append(roles, 'admin') WHERE id = $1`, [admin.id]);
    await relogin(admin);
    popular = (await t.http().get('/token-packages').expect(200)).body.items.find((p: { name: string }) => p.name === 'Popular');
    reviewed = (
      await t
        .http()
        .post('/admin/token-packages')
        .set(auth(admin))
        .send({ name: 'Reviewed', priceCents: REVIEWED_PRICE, currency: 'USD', credits: 7000, bonusPromo: 700 })
        .expect(201)
    ).body;
    await t.sql(
      `INSERT INTO fraud_rules (id, name, current_version, created_at, updated_at) VALUES ($1, 'test-review-777', 1, now(), now())`,
      [TEST_RULE.id],
    );
    await t.sql(
      `INSERT INTO fraud_rule_versions (id, rule_id, version, name, event_types, condition, action, score, mode, created_at)
       VALUES ($1, $2, 1, 'test-review-777', ARRAY['token_purchase'], $3::jsonb, 'REVIEW', 0, 'ACTIVE', now())`,
      [TEST_RULE.version, TEST_RULE.id, JSON.stringify({ '==': [{ var: 'event.amountCents' }, REVIEWED_PRICE] })],
    );
    t.app.get(RulesService).invalidate();
  });
  afterAll(async () => {
    await t?.close();
    await fake?.stop();
  });
  afterEach(async () => {
    fake.clearFailures();
    const verify = await t.http().get('/admin/ledger/verify').set(auth(admin)).expect(200);
    expect(verify.body.ok).toBe(true);
  });

  function auth(u: User) {
    return { Authorization: `Bearer ${u.accessToken}` };
  }
  /** A new access token (they are dated by the business clock, which a test may move). */
  async function relogin(u: User) {
    const res = await t.http().post('/auth/login').send({ email: u.email, password: u.password, deviceToken: u.deviceToken }).expect(200);
    u.accessToken = res.body.accessToken;
  }
  /** Moves the business clock an hour and a second on: the velocity windows no longer see what came before. */
  async function anHourLater(...users: User[]) {
    await t.http().post('/dev/clock').send({ advanceSeconds: 3601 }).expect(200);
    for (const u of [admin, ...users]) await relogin(u);
  }
  const buy = (u: User, opts: { key?: string; pkg?: Package; country?: string } = {}) => {
    const req = t
      .http()
      .post('/token-purchases')
      .set(auth(u))
      .set('Idempotency-Key', opts.key ?? randomUUID());
    return (opts.country ? req.set(COUNTRY_HEADER, opts.country) : req).send({ packageId: (opts.pkg ?? popular).id });
  };
  const runJobs = async () => (await t.http().post('/dev/jobs/run').expect(200)).body as { processed: number; failed: number };
  /** The customer pays; the signed success is delivered and applied. */
  async function pay(created: Created, card: FakeCard) {
    const [, succeeded] = fake.succeed(created.paymentIntentId, { country: 'NL', ...card });
    await deliverEvent(t, fake, succeeded).expect(200);
    await runJobs();
  }
  const bought = async (u: User, opts: Parameters<typeof buy>[1] = {}) => (await buy(u, opts).expect(201)).body as Created;
  const view = async (id: string) => (await t.http().get(`/token-purchases/${id}`).set(auth(admin)).expect(200)).body;
  const balance = async (u: User, asset: Asset = 'CREDIT') => {
    const b = await ledger.balance(userAccount(u.id, asset, 'wallet'));
    return { posted: Number(b.posted), held: Number(b.held) };
  };
  const decisions = (type: FraudEventType, subjectId: string) =>
    t.sql<{
      outcome: string;
      features: Record<string, unknown>;
      rules: { ruleId: string; matched: boolean }[];
      matched_rule_ids: string[];
    }>(
      `SELECT outcome, features, rules, matched_rule_ids FROM fraud_decisions WHERE event_type = $1 AND subject_id = $2 ORDER BY created_at`,
      [type, subjectId],
    );
  const caseOf = (type: FraudEventType, purchaseId: string) => reviews.forSubject(type, purchaseId);
  async function decide(type: FraudEventType, purchaseId: string, action: 'approve' | 'reject') {
    const review = await caseOf(type, purchaseId);
    if (!review) throw new Error(`no ${type} review of ${purchaseId}`);
    return reviews.decide(review.id, admin.id, action, `${action} in test`);
  }
  const intentRequests = (purchaseId: string) =>
    fake.requests.filter((r) => r.path === '/v1/payment_intents' && r.idempotencyKey === `token_purchase:${purchaseId}`).length;
  const refunds = (piId: string) => fake.eventsOfType('refund.created').filter((e) => JSON.stringify(e.data.object).includes(piId));
  const reviewHolds = (purchaseId: string) =>
    t.sql<{ reference: string; amount: string; status: string }>(
      `SELECT reference, amount::text, status FROM ledger_holds WHERE kind = 'fraud_review' AND metadata->>'purchaseId' = $1 ORDER BY reference`,
      [purchaseId],
    );
  const ledgerEntries = (purchaseId: string) =>
    t.sql<{ kind: string; reference: string }>(
      `SELECT kind, reference FROM ledger_entries WHERE metadata->>'purchaseId' = $1 ORDER BY created_at, reference`,
      [purchaseId],
    );
  /** Spends from the wallet through the ledger: refused while the credits are held. */
  const spend = (u: User, amount: number) =>
    t.dataSource.transaction((em) =>
      ledger.post(em, {
        kind: 'test_spend',
        reference: `test:spend:${randomUUID()}`,
        postings: [
          { account: userAccount(u.id, 'CREDIT', 'wallet'), amount: BigInt(-amount) },
          { account: systemAccount('platform_revenue', 'CREDIT'), amount: BigInt(amount) },
        ],
      }),
    );
  /** The webhook Stripe sends after a refund, delivered and applied. */
  async function refundWebhook(piId: string) {
    const event = fake
      .eventsOfType('charge.refunded')
      .filter((e) => JSON.stringify(e.data.object).includes(piId))
      .at(-1)!;
    await deliverEvent(t, fake, event).expect(200);
    await runJobs();
    return (await t.sql<{ status: string }>('SELECT status FROM stripe_events WHERE id = $1', [event.id]))[0].status;
  }

  describe('token_purchase: the request, before its PaymentIntent', () => {
    it('allows a purchase and stores the decision with the features it read and every rule version it evaluated', async () => {
      const buyer = await signUp(t);
      const created = await bought(buyer, { country: 'de' });
      const [d] = await decisions('token_purchase', created.id);
      expect(d.outcome).toBe('ALLOW');
      expect(d.features).toMatchObject({
        'event.type': 'token_purchase',
        'event.amount': popular.credits,
        'event.amountCents': popular.priceCents,
        'event.currency': 'USD',
        'user.id': buyer.id,
        'user.events1h': 1,
        'ip.address': '127.0.0.1',
        'ip.country': 'DE',
      });
      const evaluated = d.rules.map((r) => r.ruleId);
      expect(evaluated).toEqual(expect.arrayContaining([RULE.velocity, TEST_RULE.id]));
      expect(evaluated).not.toContain(RULE.riskHigh);
      expect(d.rules.every((r) => r.matched === false)).toBe(true);
      expect(d.matched_rule_ids).toEqual([]);
      // A header value that is not a country code reads as unknown.
      const other = await bought(buyer, { country: 'T1' });
      expect((await decisions('token_purchase', other.id))[0].features['ip.country']).toBeNull();
    });

    it('allows the 5th purchase in an hour and blocks the 6th: 403 FRAUD_BLOCKED, no PaymentIntent, nothing created; its replay is refused alike, an hour later too', async () => {
      const buyer = await signUp(t);
      for (let i = 1; i <= 5; i++) await bought(buyer);
      const key = randomUUID();
      const sixth = purchaseIdFor(buyer.id, key);
      const blocked = await buy(buyer, { key }).expect(403);
      expect(blocked.body.code).toBe('FRAUD_BLOCKED');
      expect(blocked.body.detail).not.toMatch(/velocity|rule/i);
      expect(intentRequests(sixth)).toBe(0);
      expect(await t.sql('SELECT id FROM token_purchases WHERE id = $1', [sixth])).toEqual([]);
      const [d] = await decisions('token_purchase', sixth);
      expect(d).toMatchObject({ outcome: 'BLOCK', matched_rule_ids: [RULE.velocity] });
      expect(d.features['user.events1h']).toBe(6);

      // The same request again: the same answer from the first decision, not a second one.
      expect((await buy(buyer, { key }).expect(403)).body.code).toBe('FRAUD_BLOCKED');
      expect((await buy(buyer, { key, pkg: reviewed }).expect(422)).body.code).toBe('IDEMPOTENCY_KEY_REUSED');
      await anHourLater(buyer);
      expect((await buy(buyer, { key }).expect(403)).body.code).toBe('FRAUD_BLOCKED');
      expect(await decisions('token_purchase', sixth)).toHaveLength(1);
      expect(intentRequests(sixth)).toBe(0);
      // A new request an hour later is decided on its own, and allowed.
      await bought(buyer);
    });

    it('decides a request once: its retry after Stripe failed is not counted again (the 5th stays allowed)', async () => {
      const buyer = await signUp(t);
      for (let i = 1; i <= 4; i++) await bought(buyer);
      const key = randomUUID();
      fake.failRequests(/^POST \/v1\/payment_intents$/);
      expect((await buy(buyer, { key }).expect(502)).body.code).toBe('UPSTREAM_UNAVAILABLE');
      fake.clearFailures();
      const fifth = await buy(buyer, { key }).expect(201);
      expect(await decisions('token_purchase', fifth.body.id)).toEqual([expect.objectContaining({ outcome: 'ALLOW' })]);
      expect((await buy(buyer).expect(403)).body.code).toBe('FRAUD_BLOCKED');
    });
  });

  describe('payment_succeeded: the signed success', () => {
    it('mints at Stripe risk 64; at 65 mints into a review hold the buyer cannot spend', async () => {
      const buyer = await signUp(t);
      const allowed = await bought(buyer);
      await pay(allowed, { fingerprint: `fp-${buyer.id}`, riskScore: 64 });
      expect(await view(allowed.id)).toMatchObject({ status: 'succeeded', creditsGranted: popular.credits, heldForReview: false });
      expect(await balance(buyer)).toEqual({ posted: popular.credits, held: 0 });
      const [ok] = await decisions('payment_succeeded', allowed.id);
      expect(ok.outcome).toBe('ALLOW');
      expect(ok.features).toMatchObject({ 'payment.riskScore': 64, 'card.fingerprint': `fp-${buyer.id}`, 'card.country': 'NL' });
      expect(await caseOf('payment_succeeded', allowed.id)).toBeUndefined();

      const held = await bought(buyer);
      await pay(held, { fingerprint: `fp-${buyer.id}`, riskScore: 65 });
      expect(await view(held.id)).toMatchObject({ status: 'succeeded', creditsGranted: popular.credits, heldForReview: true });
      expect(await balance(buyer)).toEqual({ posted: 2 * popular.credits, held: popular.credits });
      expect(await balance(buyer, 'PROMO')).toMatchObject({ held: popular.bonusPromo });
      expect(await reviewHolds(held.id)).toEqual([
        { reference: `fraud_review:${held.id}`, amount: String(popular.credits), status: 'pending' },
        { reference: `fraud_review:${held.id}:promo`, amount: String(popular.bonusPromo), status: 'pending' },
      ]);
      const [review] = await decisions('payment_succeeded', held.id);
      expect(review).toMatchObject({ outcome: 'REVIEW', matched_rule_ids: [RULE.riskElevated] });
      expect(await caseOf('payment_succeeded', held.id)).toMatchObject({ status: 'open', userId: buyer.id });
      // What the first purchase minted is spendable, what the second minted is not.
      await spend(buyer, popular.credits);
      await expect(spend(buyer, 1)).rejects.toMatchObject({ code: 'INSUFFICIENT_FUNDS' });
    });

    it('holds at 74; at 75 mints nothing: failed (fraud_blocked), refunded once through the queue, and the charge.refunded that follows changes nothing', async () => {
      const buyer = await signUp(t);
      const held = await bought(buyer);
      await pay(held, { fingerprint: `fp-${buyer.id}`, riskScore: 74 });
      expect(await view(held.id)).toMatchObject({ heldForReview: true });

      const blocked = await bought(buyer);
      const [, succeeded] = fake.succeed(blocked.paymentIntentId, { fingerprint: `fp-${buyer.id}`, country: 'NL', riskScore: 75 });
      await deliverEvent(t, fake, succeeded).expect(200);
      // The webhook's job commits the failed purchase and queues the refund (made in this round or the next).
      await runJobs();
      await runJobs();
      expect(await view(blocked.id)).toMatchObject({
        status: 'failed',
        failure: { code: 'fraud_blocked' },
        creditsGranted: 0,
        refundedCents: popular.priceCents,
        fraudRefusal: 'blocked',
      });
      const [d] = await decisions('payment_succeeded', blocked.id);
      expect(d).toMatchObject({ outcome: 'BLOCK', matched_rule_ids: [RULE.riskHigh] });
      expect(refunds(blocked.paymentIntentId)).toHaveLength(1);
      expect(
        fake.requests
          .filter((r) => r.path === '/v1/refunds' && r.params.payment_intent === blocked.paymentIntentId)
          .map((r) => r.idempotencyKey),
      ).toEqual([`token_purchase:${blocked.id}:refund`]);
      expect(await refundWebhook(blocked.paymentIntentId)).toBe('processed');
      expect(await view(blocked.id)).toMatchObject({ status: 'failed', creditsGranted: 0, refundedCents: popular.priceCents });
      expect(await ledgerEntries(blocked.id)).toEqual([]);
      expect(await balance(buyer)).toEqual({ posted: popular.credits, held: popular.credits });
      // A late decline of the same payment does not hide why the purchase failed.
      const stale = fake.emit('payment_intent.payment_failed', {
        ...fake.paymentIntent(blocked.paymentIntentId),
        last_payment_error: { type: 'card_error', code: 'card_declined', decline_code: 'generic_decline', message: 'Declined' },
      } as never);
      await deliverEvent(t, fake, stale).expect(200);
      await runJobs();
      expect(await view(blocked.id)).toMatchObject({ status: 'failed', failure: { code: 'fraud_blocked' } });
      // A refund job run again, or the sweep, finds nothing left to refund.
      await t.app.get(PurchaseRefundsService).refundRefused(blocked.id);
      expect(refunds(blocked.paymentIntentId)).toHaveLength(1);
    });

    it("reviews a card from another country than the request's IP address, read from the request's decision", async () => {
      const buyer = await signUp(t);
      const same = await bought(buyer, { country: 'NL' });
      await pay(same, { fingerprint: `fp-${buyer.id}`, country: 'NL' });
      expect((await decisions('payment_succeeded', same.id))[0].outcome).toBe('ALLOW');
      const abroad = await bought(buyer, { country: 'DE' });
      await pay(abroad, { fingerprint: `fp-${buyer.id}`, country: 'NL' });
      const [d] = await decisions('payment_succeeded', abroad.id);
      expect(d).toMatchObject({ outcome: 'REVIEW', matched_rule_ids: [RULE.countries] });
      expect(d.features).toMatchObject({ 'ip.country': 'DE', 'card.country': 'NL', 'ip.address': '127.0.0.1' });
      expect(d.features['device.id']).toBe((await decisions('token_purchase', abroad.id))[0].features['device.id']);
      expect(await view(abroad.id)).toMatchObject({ heldForReview: true });
    });

    it('allows a 3rd distinct card in a day and blocks the 4th', async () => {
      const buyer = await signUp(t);
      const paid: Created[] = [];
      for (let i = 1; i <= 4; i++) {
        const created = await bought(buyer);
        await pay(created, { fingerprint: `fp-${buyer.id}-${i}` });
        paid.push(created);
      }
      const outcomes = [];
      for (const p of paid) outcomes.push((await decisions('payment_succeeded', p.id))[0]);
      expect(outcomes.map((d) => [d.outcome, d.features['user.cards24h']])).toEqual([
        ['ALLOW', 1],
        ['ALLOW', 2],
        ['ALLOW', 3],
        ['BLOCK', 4],
      ]);
      expect(outcomes[3].matched_rule_ids).toEqual([RULE.cards]);
      expect(await view(paid[3].id)).toMatchObject({ status: 'failed', failure: { code: 'fraud_blocked' }, creditsGranted: 0 });
      expect(await balance(buyer)).toEqual({ posted: 3 * popular.credits, held: 0 });
    });
  });

  describe('reviews', () => {
    /** A purchase paid at risk 70: minted into a review hold, one payment_succeeded case open. */
    async function heldPurchase(buyer: User, pkg: Package = popular) {
      const created = await bought(buyer, { pkg });
      await pay(created, { fingerprint: `fp-${buyer.id}`, riskScore: 70 });
      expect(await view(created.id)).toMatchObject({ status: 'succeeded', heldForReview: true });
      return created;
    }

    it('approve releases the review holds: the credits become spendable and nothing else moves; a second decision is refused', async () => {
      const buyer = await signUp(t);
      const created = await heldPurchase(buyer);
      const entries = await ledgerEntries(created.id);
      await decide('payment_succeeded', created.id, 'approve');
      expect(await view(created.id)).toMatchObject({ status: 'succeeded', creditsGranted: popular.credits, heldForReview: false });
      expect(await balance(buyer)).toEqual({ posted: popular.credits, held: 0 });
      expect(await balance(buyer, 'PROMO')).toMatchObject({ held: 0 });
      expect((await reviewHolds(created.id)).map((h) => h.status)).toEqual(['voided', 'voided']);
      expect(await ledgerEntries(created.id)).toEqual(entries);
      await expect(decide('payment_succeeded', created.id, 'approve')).rejects.toMatchObject({ code: 'INVALID_STATE' });
      await expect(decide('payment_succeeded', created.id, 'reject')).rejects.toMatchObject({ code: 'INVALID_STATE' });
      await spend(buyer, popular.credits);
      const audit = await t.sql<{ action: string; actor_id: string }>(
        `SELECT action, actor_id FROM audit_log WHERE action LIKE 'fraud.review_%' AND data->>'subjectId' = $1`,
        [created.id],
      );
      expect(audit).toEqual([{ action: 'fraud.review_approved', actor_id: admin.id }]);
    });

    it('reject claws back in the admin’s transaction (never spendable in between) and refunds through the queue once, even when Stripe fails at first', async () => {
      const buyer = await signUp(t);
      const created = await heldPurchase(buyer);
      fake.failRequests(/^POST \/v1\/refunds$/);
      await decide('payment_succeeded', created.id, 'reject');
      // Clawed back at once: the refund has not been made yet.
      expect(await view(created.id)).toMatchObject({
        status: 'succeeded',
        creditsGranted: 0,
        promoGranted: 0,
        fraudRefusal: 'rejected',
        refundedCents: 0,
      });
      expect(await balance(buyer)).toEqual({ posted: 0, held: 0 });
      expect(await balance(buyer, 'PROMO')).toEqual({ posted: t.config.economy.signupBonusPromo, held: 0 });
      expect((await ledgerEntries(created.id)).map((e) => e.kind)).toEqual(['mint', 'clawback']);
      expect((await runJobs()).failed).toBeGreaterThanOrEqual(1);
      expect(refunds(created.paymentIntentId)).toHaveLength(0);
      fake.clearFailures();
      // The sweep queues again what is still unrefunded an hour later, whatever became of the failed job.
      const refunder = t.app.get(PurchaseRefundsService);
      expect(await refunder.requeueDue(t.app.get(Clock).now())).toBe(0);
      expect(await refunder.requeueDue(addHours(t.app.get(Clock).now(), 2))).toBeGreaterThanOrEqual(1);
      await runJobs();
      await refunder.refundRefused(created.id);
      expect(refunds(created.paymentIntentId)).toHaveLength(1);
      expect(await view(created.id)).toMatchObject({ status: 'refunded', refundedCents: popular.priceCents, creditsGranted: 0 });
      expect(await refundWebhook(created.paymentIntentId)).toBe('processed');
      expect((await ledgerEntries(created.id)).map((e) => e.kind)).toEqual(['mint', 'clawback']);
      expect(await ledger.owed(buyer.id)).toBe(0n);
    });

    it('a dispute of a purchase under review claws back what the holds kept (no debt); won, the credits are held again until approved', async () => {
      const buyer = await signUp(t);
      const created = await heldPurchase(buyer);
      await deliverEvent(t, fake, fake.dispute(created.paymentIntentId)).expect(200);
      await runJobs();
      expect(await view(created.id)).toMatchObject({ status: 'disputed', creditsGranted: 0, heldForReview: false });
      expect(await balance(buyer)).toEqual({ posted: 0, held: 0 });
      expect(await ledger.owed(buyer.id)).toBe(0n);
      await deliverEvent(t, fake, fake.closeDispute(created.paymentIntentId, 'won')).expect(200);
      await runJobs();
      expect(await view(created.id)).toMatchObject({ status: 'succeeded', creditsGranted: popular.credits, heldForReview: true });
      expect(await balance(buyer)).toEqual({ posted: popular.credits, held: popular.credits });
      await decide('payment_succeeded', created.id, 'approve');
      expect(await balance(buyer)).toEqual({ posted: popular.credits, held: 0 });
      expect((await reviewHolds(created.id)).map((h) => [h.reference, h.status])).toEqual([
        [`fraud_review:${created.id}`, 'voided'],
        [`fraud_review:${created.id}:3`, 'voided'],
        [`fraud_review:${created.id}:3:promo`, 'voided'],
        [`fraud_review:${created.id}:promo`, 'voided'],
      ]);
    });

    it('a request under review: its success is minted into a hold (one case, no second one), and its approval releases it', async () => {
      const buyer = await signUp(t);
      const created = await bought(buyer, { pkg: reviewed });
      expect((await decisions('token_purchase', created.id))[0]).toMatchObject({ outcome: 'REVIEW', matched_rule_ids: [TEST_RULE.id] });
      expect(await caseOf('token_purchase', created.id)).toMatchObject({ status: 'open' });
      await pay(created, { fingerprint: `fp-${buyer.id}` });
      expect((await decisions('payment_succeeded', created.id))[0].outcome).toBe('ALLOW');
      expect(await caseOf('payment_succeeded', created.id)).toBeUndefined();
      expect(await view(created.id)).toMatchObject({ creditsGranted: reviewed.credits, heldForReview: true });
      expect(await balance(buyer)).toEqual({ posted: reviewed.credits, held: reviewed.credits });
      await decide('token_purchase', created.id, 'approve');
      expect(await balance(buyer)).toEqual({ posted: reviewed.credits, held: 0 });
    });

    it('a request approved before its payment is minted as usual when the payment succeeds', async () => {
      const buyer = await signUp(t);
      const created = await bought(buyer, { pkg: reviewed });
      await decide('token_purchase', created.id, 'approve');
      expect(await view(created.id)).toMatchObject({ status: 'pending', heldForReview: false });
      await pay(created, { fingerprint: `fp-${buyer.id}` });
      expect(await view(created.id)).toMatchObject({ status: 'succeeded', creditsGranted: reviewed.credits, heldForReview: false });
      expect(await balance(buyer)).toEqual({ posted: reviewed.credits, held: 0 });
    });

    it('a request rejected before its payment: the payment, when it comes, is refunded and nothing is minted; rejected before its PaymentIntent: 403', async () => {
      const buyer = await signUp(t);
      const created = await bought(buyer, { pkg: reviewed });
      await decide('token_purchase', created.id, 'reject');
      expect(await view(created.id)).toMatchObject({ status: 'pending', fraudRefusal: 'rejected' });
      await pay(created, { fingerprint: `fp-${buyer.id}` });
      await runJobs();
      expect(await view(created.id)).toMatchObject({
        status: 'failed',
        failure: { code: 'fraud_rejected' },
        creditsGranted: 0,
        refundedCents: reviewed.priceCents,
      });
      expect(await decisions('payment_succeeded', created.id)).toEqual([]);
      expect(refunds(created.paymentIntentId)).toHaveLength(1);
      expect(await balance(buyer)).toEqual({ posted: 0, held: 0 });

      // Stripe was down when the request was first made: the case is decided before any PaymentIntent exists.
      const key = randomUUID();
      fake.failRequests(/^POST \/v1\/payment_intents$/);
      await buy(buyer, { key, pkg: reviewed }).expect(502);
      fake.clearFailures();
      await decide('token_purchase', purchaseIdFor(buyer.id, key), 'reject');
      expect((await buy(buyer, { key, pkg: reviewed }).expect(403)).body.code).toBe('FRAUD_BLOCKED');
      expect(intentRequests(purchaseIdFor(buyer.id, key))).toBe(1);
    });

    it('two cases on one purchase (request and payment): released only when both are approved', async () => {
      const buyer = await signUp(t);
      const created = await heldPurchase(buyer, reviewed);
      expect((await caseOf('token_purchase', created.id))?.status).toBe('open');
      expect((await caseOf('payment_succeeded', created.id))?.status).toBe('open');
      await decide('token_purchase', created.id, 'approve');
      expect(await balance(buyer)).toEqual({ posted: reviewed.credits, held: reviewed.credits });
      await decide('payment_succeeded', created.id, 'approve');
      expect(await balance(buyer)).toEqual({ posted: reviewed.credits, held: 0 });
    });

    it('two cases on one purchase decided at once, one approved and one rejected: refused, clawed back and refunded once', async () => {
      const buyer = await signUp(t);
      const created = await heldPurchase(buyer, reviewed);
      await Promise.all([decide('token_purchase', created.id, 'approve'), decide('payment_succeeded', created.id, 'reject')]);
      await runJobs();
      expect(await view(created.id)).toMatchObject({
        status: 'refunded',
        creditsGranted: 0,
        fraudRefusal: 'rejected',
        heldForReview: false,
      });
      expect(await balance(buyer)).toEqual({ posted: 0, held: 0 });
      expect(refunds(created.paymentIntentId)).toHaveLength(1);
    });

    it('concurrent approvals and rejections of one case decide it once', async () => {
      for (let round = 0; round < 3; round++) {
        const buyer = await signUp(t);
        const created = await heldPurchase(buyer);
        const answers = await Promise.allSettled([
          decide('payment_succeeded', created.id, 'approve'),
          decide('payment_succeeded', created.id, 'reject'),
          decide('payment_succeeded', created.id, 'approve'),
          decide('payment_succeeded', created.id, 'reject'),
        ]);
        const won = answers.filter((a) => a.status === 'fulfilled');
        expect(won).toHaveLength(1);
        for (const a of answers.filter((x) => x.status === 'rejected')) {
          expect((a as PromiseRejectedResult).reason).toBeInstanceOf(AppError);
          expect((a as PromiseRejectedResult).reason.code).toBe('INVALID_STATE');
        }
        await runJobs();
        const status = (won[0] as PromiseFulfilledResult<{ status: string }>).value.status;
        if (status === 'approved') {
          expect(await balance(buyer)).toEqual({ posted: popular.credits, held: 0 });
          expect(refunds(created.paymentIntentId)).toHaveLength(0);
        } else {
          expect(await balance(buyer)).toEqual({ posted: 0, held: 0 });
          expect(await view(created.id)).toMatchObject({ status: 'refunded' });
          expect(refunds(created.paymentIntentId)).toHaveLength(1);
        }
      }
    });
  });
});

describe('migration 1763900015000 (payments fraud checks)', () => {
  it('goes down to the schema before it and up again', async () => {
    // 1763900021000 adds columns to token_purchases after it: down first, so that they come back in their order.
    await expectRoundTrip([new PaymentsFraud1763900015000(), new PaymentsWholesale1763900021000()], (down) => {
      expect(down).not.toMatch(/token_purchase_screenings|fraud_refusal|token_purchase_refusal_guard/);
      expect(tableOf(down, 'token_purchases')).not.toContain('review_hold_ids');
    });
  });
});

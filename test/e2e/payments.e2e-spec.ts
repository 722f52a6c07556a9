import { randomUUID } from 'node:crypto';
import Stripe from 'stripe';
import { AccountGuardService } from '../../src/account-guard/account-guard.service';
import { HOUR_MS, MINUTE_MS } from '../../src/common/time';
import { LedgerService } from '../../src/ledger/ledger.service';
import { systemAccount, userAccount } from '../../src/ledger/ledger.types';
import { SpendingPolicy } from '../../src/account-guard/spending.policy';
import { FraudService } from '../../src/fraud/fraud.service';
import { PurchaseSignalsService } from '../../src/payments/purchases/purchase-signals.service';
import { TokenPurchasesRepository } from '../../src/payments/purchases/token-purchases.repository';
import { purchaseIdFor } from '../../src/payments/purchases/token-purchases.service';
import { StripeEventsService } from '../../src/payments/webhooks/stripe-events.service';
import { lastMail, signUp, SignedUpUser } from '../support/auth';
import { deliverEvent, FakeStripe, startFakeStripe } from '../support/fake-stripe';
import { whileKeyIsDecided } from '../support/market-fixtures';
import { startTestApp, TestApp } from '../support/test-app';

type User = SignedUpUser;

/** A new buyer (signed up through the API), or an admin: granted by SQL, then logged in again. */
async function newUser(t: TestApp, admin = false): Promise<User> {
  const user = await signUp(t);
  if (!admin) return user;
  await t.sql(`UPDATE users SET roles = array_append(roles, 'admin') WHERE id = $1`, [user.id]);
  const again = await t
    .http()
    .post('/auth/login')
    .send({ email: user.email, password: user.password, deviceToken: user.deviceToken })
    .expect(200);
  return { ...user, accessToken: again.body.accessToken };
}

describe('payments: buying tokens with Stripe', () => {
  let t: TestApp;
  let fake: FakeStripe;
  let stripe: Stripe;
  let ledger: LedgerService;
  let admin: User;
  let popular: { id: string; priceCents: number; credits: number; bonusPromo: number };

  beforeAll(async () => {
    const started = await startFakeStripe();
    fake = started.fake;
    t = await startTestApp(started.env);
    stripe = new Stripe(started.env.STRIPE_SECRET_KEY, { ...fake.clientOptions, maxNetworkRetries: 0 });
    ledger = t.app.get(LedgerService);
    admin = await newUser(t, true);
    const list = await t.http().get('/token-packages').expect(200);
    popular = list.body.items.find((p: { name: string }) => p.name === 'Popular');
  });
  afterAll(async () => {
    await t?.close();
    await fake?.stop();
  });
  afterEach(async () => {
    fake.setLatency(0);
    fake.clearFailures();
    const report = await ledger.verify();
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
  });

  const auth = (u: User) => ({ Authorization: `Bearer ${u.accessToken}` });
  /** Every new account starts with the sign-up PROMO bonus. */
  const signupPromo = () => t.config.economy.signupBonusPromo;
  const buy = (u: User, key: string = randomUUID(), packageId = popular.id) =>
    t.http().post('/token-purchases').set(auth(u)).set('Idempotency-Key', key).send({ packageId });
  /** How many times Stripe was asked for the PaymentIntent of a purchase. */
  const intentRequests = (purchaseId: string) =>
    fake.requests.filter((r) => r.path === '/v1/payment_intents' && r.idempotencyKey === `token_purchase:${purchaseId}`).length;
  /** Waits until a purchase request's fraud check has committed (the request is then on its way to Stripe). */
  async function passedFraudCheck(purchaseId: string) {
    for (let i = 0; i < 100; i++) {
      if ((await t.sql('SELECT 1 FROM token_purchase_screenings WHERE purchase_id = $1', [purchaseId])).length) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`purchase ${purchaseId} was never checked`);
  }
  const runJobs = async () => (await t.http().post('/dev/jobs/run').expect(200)).body as { processed: number; failed: number };
  const purchase = async (u: User, id: string) => (await t.http().get(`/token-purchases/${id}`).set(auth(u)).expect(200)).body;
  const balance = async (userId: string, asset: 'CREDIT' | 'PROMO', name: 'wallet' | 'earnings' | 'debt') =>
    Number((await ledger.balance(userAccount(userId, asset, name))).posted);
  /** Spends from the wallet as a purchase would: credits to the platform, PROMO burned. */
  const spend = (userId: string, amount: number, asset: 'CREDIT' | 'PROMO' = 'CREDIT') =>
    t.dataSource.transaction((em) =>
      ledger.post(em, {
        kind: 'test_spend',
        reference: `test:spend:${randomUUID()}`,
        postings: [
          { account: userAccount(userId, asset, 'wallet'), amount: BigInt(-amount) },
          { account: systemAccount(asset === 'PROMO' ? 'burn' : 'platform_revenue', asset), amount: BigInt(amount) },
        ],
      }),
    );
  const holdsOf = (userId: string) =>
    t.sql(
      `SELECT reference, placed_by, released_at, released_by FROM account_holds WHERE user_id = $1 ORDER BY placed_at, reference NULLS LAST`,
      [userId],
    );
  const holdAudit = (userId: string) =>
    t.sql(
      `SELECT action, actor_id, data->>'reference' AS reference FROM audit_log WHERE subject_id = $1 AND action LIKE 'account.hold%' ORDER BY seq`,
      [userId],
    );
  const adminHold = (userId: string, path: 'hold' | 'release', body: object) =>
    t.http().post(`/admin/users/${userId}/${path}`).set(auth(admin)).send(body);
  const adminRefund = (purchaseId: string, reason: string, idempotencyKey = randomUUID()) =>
    t.http().post(`/admin/token-purchases/${purchaseId}/refund`).set(auth(admin)).set('Idempotency-Key', idempotencyKey).send({ reason });
  /** The events Stripe emitted for a payment, by type, newest last. */
  const eventFor = (type: string, piId: string) =>
    fake.events.filter((e) => e.type === type && JSON.stringify(e.data.object).includes(piId)).at(-1)!;
  async function paidPurchase(u: User) {
    const created = (await buy(u).expect(201)).body;
    fake.succeed(created.paymentIntentId, { fingerprint: `fp-${u.id}`, country: 'NL', riskScore: 33 });
    await deliverEvent(t, fake, eventFor('payment_intent.succeeded', created.paymentIntentId)).expect(200);
    await runJobs();
    return created as { id: string; paymentIntentId: string };
  }
  /** A paid purchase whose payment the buyer then disputed, with the dispute applied. */
  async function disputedPurchase(u: User) {
    const paid = await paidPurchase(u);
    await deliverEvent(t, fake, fake.dispute(paid.paymentIntentId)).expect(200);
    await runJobs();
    const disputeId = (await purchase(u, paid.id)).dispute.id as string;
    return { paid, disputeId };
  }

  describe('token packages', () => {
    it('lists the active default packages publicly, cheapest first', async () => {
      const res = await t.http().get('/token-packages').expect(200);
      expect(res.body.items.length).toBeGreaterThanOrEqual(5);
      expect(res.body.items[0]).toEqual({
        id: expect.any(String),
        name: 'Starter',
        priceCents: 499,
        currency: 'USD',
        credits: 5000,
        bonusPromo: 0,
      });
      const prices = res.body.items.map((p: { priceCents: number }) => p.priceCents);
      expect(prices).toEqual([...prices].sort((a, b) => a - b));
      const page = await t.http().get('/token-packages?limit=2').expect(200);
      const next = await t.http().get(`/token-packages?limit=2&cursor=${page.body.nextCursor}`).expect(200);
      expect(next.body.items[0].id).toBe(res.body.items[2].id);
    });

    it('lets admins create and edit packages (audited); a retired package is hidden and cannot be bought', async () => {
      const created = await t
        .http()
        .post('/admin/token-packages')
        .set(auth(admin))
        .send({ name: 'Euro pack', priceCents: 1500, currency: 'eur', credits: 16000, bonusPromo: 500 })
        .expect(201);
      expect(created.body).toMatchObject({ currency: 'EUR', credits: 16000, active: true });
      const patched = await t
        .http()
        .patch(`/admin/token-packages/${created.body.id}`)
        .set(auth(admin))
        .send({ active: false, priceCents: 1400 })
        .expect(200);
      expect(patched.body).toMatchObject({ active: false, priceCents: 1400, currency: 'EUR' });
      const audit = await t.sql<{ action: string; actor_id: string }>(
        `SELECT action, actor_id FROM audit_log WHERE subject_id = $1 ORDER BY seq`,
        [created.body.id],
      );
      expect(audit).toEqual([
        { action: 'token_package.create', actor_id: admin.id },
        { action: 'token_package.update', actor_id: admin.id },
      ]);
      const publicList = await t.http().get('/token-packages?limit=200').expect(200);
      expect(publicList.body.items.map((p: { id: string }) => p.id)).not.toContain(created.body.id);
      const buyer = await newUser(t);
      const res = await buy(buyer, randomUUID(), created.body.id).expect(409);
      expect(res.body.code).toBe('INVALID_STATE');
    });

    it('refuses non-admins and invalid packages without changing anything', async () => {
      const buyer = await newUser(t);
      await t
        .http()
        .post('/admin/token-packages')
        .set(auth(buyer))
        .send({ name: 'x', priceCents: 1, currency: 'USD', credits: 1 })
        .expect(403);
      for (const body of [
        { name: 'x', priceCents: 100, currency: 'US', credits: 10 },
        { name: 'x', priceCents: 0, currency: 'USD', credits: 10 },
        { name: 'x', priceCents: 100, currency: 'USD', credits: 1.5 },
        { name: 'x', priceCents: 100, currency: 'USD', credits: 10, extra: 1 },
      ]) {
        const res = await t.http().post('/admin/token-packages').set(auth(admin)).send(body).expect(400);
        expect(res.body.code).toBe('VALIDATION_FAILED');
      }
      const [{ n }] = await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM token_packages WHERE name = 'x'`);
      expect(n).toBe(0);
      for (const field of ['name', 'priceCents', 'currency', 'credits']) {
        const res = await t
          .http()
          .patch(`/admin/token-packages/${popular.id}`)
          .set(auth(admin))
          .send({ [field]: null });
        expect({ field, status: res.status, code: res.body.code }).toEqual({ field, status: 400, code: 'VALIDATION_FAILED' });
      }
    });
  });

  describe('buying', () => {
    it('creates a pending purchase and a PaymentIntent carrying our ids, visible to its owner and admins only', async () => {
      const buyer = await newUser(t);
      const res = await buy(buyer).expect(201);
      expect(res.body).toEqual({
        id: expect.any(String),
        status: 'pending',
        paymentIntentId: expect.stringMatching(/^pi_/),
        clientSecret: expect.stringMatching(/_secret_/),
      });
      expect(fake.paymentIntent(res.body.paymentIntentId)).toMatchObject({
        amount: popular.priceCents,
        currency: 'usd',
        metadata: { purchase_id: res.body.id, user_id: buyer.id },
      });
      expect(
        fake.requests.find(
          (r) =>
            r.path === '/v1/payment_intents' &&
            r.params.metadata &&
            (r.params.metadata as Record<string, string>).purchase_id === res.body.id,
        )?.idempotencyKey,
      ).toBe(`token_purchase:${res.body.id}`);
      expect(await purchase(buyer, res.body.id)).toMatchObject({ status: 'pending', credits: popular.credits, creditsGranted: 0 });
      const other = await newUser(t);
      await t.http().get(`/token-purchases/${res.body.id}`).set(auth(other)).expect(404);
      expect(await purchase(admin, res.body.id)).toMatchObject({ userId: buyer.id, riskScore: null });
      await t.http().post('/token-purchases').send({ packageId: popular.id }).set('Idempotency-Key', 'k').expect(401);
    });

    it('is idempotent: a replay returns the first answer, another body is 422, a request in flight is 409', async () => {
      const buyer = await newUser(t);
      const key = randomUUID();
      const first = await buy(buyer, key).expect(201);
      expect(first.body.id).toBe(purchaseIdFor(buyer.id, key));
      const replay = await buy(buyer, key).expect(201);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.body).toEqual(first.body);
      const starter = (await t.http().get('/token-packages').expect(200)).body.items[0].id;
      expect((await buy(buyer, key, starter).expect(422)).body.code).toBe('IDEMPOTENCY_KEY_REUSED');
      // The replay and the refusal are answered before Stripe is asked again.
      expect(intentRequests(first.body.id)).toBe(1);
      const [{ n }] = await t.sql<{ n: number }>('SELECT count(*)::int AS n FROM token_purchases WHERE user_id = $1', [buyer.id]);
      expect(n).toBe(1);

      const heldKey = randomUUID();
      await whileKeyIsDecided(t, buyer.id, heldKey, async () => {
        expect((await buy(buyer, heldKey).expect(409)).body.code).toBe('IDEMPOTENCY_IN_PROGRESS');
      });
      expect(intentRequests(purchaseIdFor(buyer.id, heldKey))).toBe(0);
      await buy(buyer, heldKey).expect(201);
      expect((await t.http().post('/token-purchases').set(auth(buyer)).send({ packageId: popular.id }).expect(400)).body.code).toBe(
        'IDEMPOTENCY_KEY_REQUIRED',
      );
    });

    it('gives a duplicate sent while Stripe is still answering the same PaymentIntent, and makes one purchase', async () => {
      const buyer = await newUser(t);
      fake.setLatency(700);
      const key = randomUUID();
      const slow = buy(buyer, key).then((r) => r);
      await new Promise((r) => setTimeout(r, 250));
      const duplicate = await buy(buyer, key);
      const first = await slow;
      expect(first.status).toBe(201);
      if (duplicate.status === 201) {
        expect(duplicate.headers['idempotent-replayed']).toBe('true');
        expect(duplicate.body).toEqual(first.body);
      } else {
        expect([duplicate.status, duplicate.body.code]).toEqual([409, 'IDEMPOTENCY_IN_PROGRESS']);
      }
      const rows = await t.sql<{ id: string; payment_intent_id: string }>(
        'SELECT id, payment_intent_id FROM token_purchases WHERE user_id = $1',
        [buyer.id],
      );
      expect(rows).toEqual([{ id: first.body.id, payment_intent_id: first.body.paymentIntentId }]);
    });

    it('refuses another package under a key whose first request is still at Stripe (422), and makes one purchase', async () => {
      const buyer = await newUser(t);
      const starter = (await t.http().get('/token-packages').expect(200)).body.items[0].id;
      fake.setLatency(700);
      const key = randomUUID();
      const slow = buy(buyer, key).then((r) => r);
      // The request's fraud check (which holds the key) comes before Stripe: wait until it is through.
      await passedFraudCheck(purchaseIdFor(buyer.id, key));
      const other = await buy(buyer, key, starter);
      expect([other.status, other.body.code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
      const first = await slow;
      expect(first.status).toBe(201);
      const rows = await t.sql<{ package_id: string }>('SELECT package_id FROM token_purchases WHERE user_id = $1', [buyer.id]);
      expect(rows).toEqual([{ package_id: popular.id }]);
    });
  });

  describe('webhooks', () => {
    it('mints credits and the bonus exactly once when the success is delivered 5 times at once', async () => {
      const buyer = await newUser(t);
      const created = (await buy(buyer).expect(201)).body;
      fake.succeed(created.paymentIntentId, { fingerprint: 'fp_five', country: 'FR', riskScore: 42 });
      const event = eventFor('payment_intent.succeeded', created.paymentIntentId);
      const answers = await Promise.all(Array.from({ length: 5 }, () => deliverEvent(t, fake, event)));
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
      expect(answers.filter((a) => a.body.duplicate === false)).toHaveLength(1);
      expect(await purchase(buyer, created.id)).toMatchObject({ status: 'pending' });

      expect((await runJobs()).processed).toBeGreaterThanOrEqual(1);
      // The same news in a second event (another id) finds nothing left to do either.
      await deliverEvent(t, fake, fake.emit('payment_intent.succeeded', fake.paymentIntent(created.paymentIntentId) as never)).expect(200);
      await runJobs();
      expect(await purchase(buyer, created.id)).toMatchObject({
        status: 'succeeded',
        creditsGranted: popular.credits,
        promoGranted: popular.bonusPromo,
      });
      expect(await balance(buyer.id, 'CREDIT', 'wallet')).toBe(popular.credits);
      expect(await balance(buyer.id, 'PROMO', 'wallet')).toBe(signupPromo() + popular.bonusPromo);
      expect(await purchase(admin, created.id)).toMatchObject({ card: { fingerprint: 'fp_five', country: 'FR' }, riskScore: 42 });
      expect(await t.sql(`SELECT card_fingerprint, card_country, risk_score FROM token_purchases WHERE id = $1`, [created.id])).toEqual([
        { card_fingerprint: 'fp_five', card_country: 'FR', risk_score: 42 },
      ]);
      const events = await t.sql<{ status: string }>(`SELECT status FROM stripe_events WHERE purchase_id = $1`, [created.id]);
      expect(events.map((e) => e.status)).toEqual(['processed', 'processed']);
    });

    it('answers a bad or missing signature with 400 and records nothing', async () => {
      const event = fake.emit('payment_intent.succeeded', {
        id: 'pi_forged',
        object: 'payment_intent',
        amount: 1,
        currency: 'usd',
        metadata: {},
      });
      const forged = new FakeStripe({ webhookSecret: 'whsec_not_ours' }).sign(event).header;
      for (const res of [
        await deliverEvent(t, fake, event, forged),
        await t.http().post('/webhooks/stripe').set('Content-Type', 'application/json').send(fake.sign(event).payload),
        await t
          .http()
          .post('/webhooks/stripe')
          .set('Content-Type', 'application/json')
          .set('Stripe-Signature', fake.sign(event).header)
          .send({ ...event, id: 'evt_other' }),
      ]) {
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('WEBHOOK_SIGNATURE_INVALID');
      }
      expect(await t.sql('SELECT id FROM stripe_events WHERE id = $1', [event.id])).toEqual([]);
    });

    it('acknowledges and ignores event types it does not handle', async () => {
      const event = fake.emit('customer.subscription.created', { id: 'sub_1', object: 'subscription' });
      expect((await deliverEvent(t, fake, event).expect(200)).body).toEqual({ received: true, duplicate: false });
      expect((await deliverEvent(t, fake, event).expect(200)).body).toEqual({ received: true, duplicate: true });
      await runJobs();
      expect(await t.sql('SELECT status FROM stripe_events WHERE id = $1', [event.id])).toEqual([{ status: 'ignored' }]);
    });

    it('ends refunded with nothing minted when the refund arrives before the success', async () => {
      const buyer = await newUser(t);
      const created = (await buy(buyer).expect(201)).body;
      fake.succeed(created.paymentIntentId);
      await stripe.refunds.create({ payment_intent: created.paymentIntentId });
      await deliverEvent(t, fake, eventFor('charge.refunded', created.paymentIntentId)).expect(200);
      await runJobs();
      expect(await purchase(buyer, created.id)).toMatchObject({ status: 'refunded', refundedCents: popular.priceCents, creditsGranted: 0 });
      await deliverEvent(t, fake, eventFor('payment_intent.succeeded', created.paymentIntentId)).expect(200);
      await runJobs();
      expect(await purchase(buyer, created.id)).toMatchObject({ status: 'refunded', creditsGranted: 0, promoGranted: 0 });
      expect(await balance(buyer.id, 'CREDIT', 'wallet')).toBe(0);
      expect(await balance(buyer.id, 'PROMO', 'wallet')).toBe(signupPromo());
    });

    it('claws back the refunded share of a partial refund made in the Stripe dashboard', async () => {
      const buyer = await newUser(t);
      const paid = await paidPurchase(buyer);
      await stripe.refunds.create({ payment_intent: paid.paymentIntentId, amount: 333 });
      await deliverEvent(t, fake, eventFor('charge.refunded', paid.paymentIntentId)).expect(200);
      await runJobs();
      // 10,000 * 333 / 999 = 3,333.3 → 3,334 credits back; 1,000 * 333 / 999 → 334 PROMO back.
      expect(await purchase(buyer, paid.id)).toMatchObject({
        status: 'succeeded',
        refundedCents: 333,
        creditsGranted: 6_666,
        promoGranted: 666,
      });
      expect(await balance(buyer.id, 'CREDIT', 'wallet')).toBe(6_666);
      expect(await balance(buyer.id, 'PROMO', 'wallet')).toBe(signupPromo() + 666);
    });

    it('records a decline, and mints when a later attempt succeeds', async () => {
      const buyer = await newUser(t);
      const created = (await buy(buyer).expect(201)).body;
      await deliverEvent(t, fake, fake.fail(created.paymentIntentId, { code: 'card_declined', message: 'Declined' })).expect(200);
      await runJobs();
      expect(await purchase(buyer, created.id)).toMatchObject({
        status: 'failed',
        failure: { code: 'generic_decline', message: 'Declined' },
      });
      await paidAfter(created.paymentIntentId);
      expect(await purchase(buyer, created.id)).toMatchObject({ status: 'succeeded', creditsGranted: popular.credits });
    });

    /** A purchase whose payment succeeded, and whose first processing job failed on a Stripe read that keeps failing. */
    async function firstJobFailed(buyer: User) {
      const created = (await buy(buyer).expect(201)).body;
      fake.succeed(created.paymentIntentId);
      fake.failRequests(/^GET \/v1\/charges\//);
      await deliverEvent(t, fake, eventFor('payment_intent.succeeded', created.paymentIntentId)).expect(200);
      expect((await runJobs()).failed).toBe(1);
      return created as { id: string; paymentIntentId: string };
    }

    async function paidAfter(piId: string) {
      fake.succeed(piId);
      await deliverEvent(t, fake, eventFor('payment_intent.succeeded', piId)).expect(200);
      await runJobs();
    }

    it('retries a failing step in the job while Stripe got its 200 at once', async () => {
      const buyer = await newUser(t);
      const created = await firstJobFailed(buyer);
      expect(await purchase(buyer, created.id)).toMatchObject({ status: 'pending', creditsGranted: 0 });
      fake.clearFailures();
      // pg-boss backs off for 1-2 s before the retry is due.
      for (let i = 0; i < 20 && (await purchase(buyer, created.id)).status === 'pending'; i++) {
        await new Promise((r) => setTimeout(r, 250));
        await runJobs();
      }
      expect(await purchase(buyer, created.id)).toMatchObject({ status: 'succeeded', creditsGranted: popular.credits });
    });

    it('queues an event again when it is still unprocessed an hour later', async () => {
      const buyer = await newUser(t);
      const created = await firstJobFailed(buyer);
      fake.clearFailures();
      const events = t.app.get(StripeEventsService);
      expect(await events.requeueStale(new Date(Date.now() + 30 * MINUTE_MS))).toBe(0);
      expect(await events.requeueStale(new Date(Date.now() + 2 * HOUR_MS))).toBe(1);
      await runJobs();
      expect(await purchase(buyer, created.id)).toMatchObject({ status: 'succeeded', creditsGranted: popular.credits });
    });
  });

  describe('refunds, debt and disputes', () => {
    it('claws a refund back from wallet, then earnings, and turns the rest into debt that blocks spending until repaid', async () => {
      const buyer = await newUser(t);
      const paid = await paidPurchase(buyer);
      await spend(buyer.id, 7_000);
      await t.dataSource.transaction((em) =>
        ledger.post(em, {
          kind: 'test_earn',
          reference: `test:earn:${randomUUID()}`,
          postings: [
            { account: systemAccount('platform_revenue', 'CREDIT'), amount: -1_000n },
            { account: userAccount(buyer.id, 'CREDIT', 'earnings'), amount: 1_000n },
          ],
        }),
      );
      const key = randomUUID();
      const refunded = await adminRefund(paid.id, 'customer asked', key).expect(200);
      expect(refunded.body).toMatchObject({ status: 'refunded', refundedCents: popular.priceCents, creditsGranted: 0 });
      // 10,000 minted, 7,000 spent: 3,000 back from the wallet, 1,000 from earnings, 6,000 owed.
      expect(await balance(buyer.id, 'CREDIT', 'wallet')).toBe(0);
      expect(await balance(buyer.id, 'CREDIT', 'earnings')).toBe(0);
      expect(await balance(buyer.id, 'CREDIT', 'debt')).toBe(-6_000);
      expect(await balance(buyer.id, 'PROMO', 'wallet')).toBe(signupPromo());
      await expect(t.app.get(SpendingPolicy).assertMaySpend(buyer.id)).rejects.toMatchObject({
        code: 'ACCOUNT_IN_DEBT',
        status: 423,
      });
      await t.http().post('/auth/reauth').set(auth(buyer)).send({ password: buyer.password }).expect(204);
      const transfer = () =>
        t.http().post('/credit-transfers').set(auth(buyer)).set('Idempotency-Key', randomUUID()).send({ toUserId: admin.id, amount: 100 });
      expect((await transfer().expect(423)).body.code).toBe('ACCOUNT_IN_DEBT');
      const [audit] = await t.sql<{ action: string; reason: string }>(`SELECT action, reason FROM audit_log WHERE subject_id = $1`, [
        paid.id,
      ]);
      expect(audit).toEqual({ action: 'token_purchase.refund', reason: 'customer asked' });

      const replay = await adminRefund(paid.id, 'customer asked', key).expect(200);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      const again = await adminRefund(paid.id, 'twice').expect(409);
      expect(again.body.code).toBe('INVALID_STATE');
      // Stripe's own charge.refunded for the same refund arrives later and changes nothing.
      await deliverEvent(t, fake, eventFor('charge.refunded', paid.paymentIntentId)).expect(200);
      await runJobs();
      expect(await balance(buyer.id, 'CREDIT', 'debt')).toBe(-6_000);

      // The next purchase repays the debt first; the rest reaches the wallet and spending is allowed again.
      await paidPurchase(buyer);
      expect(await balance(buyer.id, 'CREDIT', 'debt')).toBe(0);
      expect(await balance(buyer.id, 'CREDIT', 'wallet')).toBe(popular.credits - 6_000);
      await expect(t.app.get(SpendingPolicy).assertMaySpend(buyer.id)).resolves.toBeUndefined();
      expect((await transfer()).body.code).not.toBe('ACCOUNT_IN_DEBT');
    });

    it('turns spent bonus PROMO into PROMO debt on a refund: owed in /me/balances, blocks PROMO spending only, repaid first by the next bonus', async () => {
      const buyer = await newUser(t);
      const paid = await paidPurchase(buyer);
      expect(await balance(buyer.id, 'PROMO', 'wallet')).toBe(signupPromo() + popular.bonusPromo);
      // All of the sign-up bonus and 600 of the package's bonus spent: 400 of the bonus left in the wallet.
      await spend(buyer.id, signupPromo() + 600, 'PROMO');
      await adminRefund(paid.id, 'customer asked').expect(200);
      const balances = (await t.http().get('/me/balances').set(auth(buyer)).expect(200)).body;
      expect(balances.PROMO).toEqual({ wallet: 0, held: 0, debt: 600 });
      expect(balances.CREDIT).toMatchObject({ wallet: 0, earnings: 0, debt: 0 });
      const [clawback] = await t.sql<{ metadata: Record<string, string> }>(
        `SELECT metadata FROM ledger_entries WHERE reference LIKE $1 AND kind = 'clawback'`,
        [`token_purchase:${paid.id}:%`],
      );
      expect(clawback.metadata).toMatchObject({ debt: '0', promoDebt: '600' });

      const policy = t.app.get(SpendingPolicy);
      await expect(policy.assertMaySpend(buyer.id, 'PROMO')).rejects.toMatchObject({
        code: 'ACCOUNT_IN_DEBT',
        status: 423,
        extra: { owed: 600, asset: 'PROMO' },
      });
      await expect(policy.assertMaySpend(buyer.id)).resolves.toBeUndefined();

      // The next package's bonus repays the 600 first; 400 of it reaches the wallet.
      await paidPurchase(buyer);
      expect(await balance(buyer.id, 'PROMO', 'debt')).toBe(0);
      expect(await balance(buyer.id, 'PROMO', 'wallet')).toBe(popular.bonusPromo - 600);
      expect(await balance(buyer.id, 'CREDIT', 'wallet')).toBe(popular.credits);
      await expect(policy.assertMaySpend(buyer.id, 'PROMO')).resolves.toBeUndefined();
    });

    it('turns spent bonus PROMO into PROMO debt on a lost dispute; the email-verified bonus repays it first', async () => {
      const buyer = await newUser(t);
      const paid = await paidPurchase(buyer);
      await spend(buyer.id, signupPromo() + 800, 'PROMO');
      await deliverEvent(t, fake, fake.dispute(paid.paymentIntentId)).expect(200);
      await deliverEvent(t, fake, fake.closeDispute(paid.paymentIntentId, 'lost')).expect(200);
      await runJobs();
      expect(await purchase(buyer, paid.id)).toMatchObject({ status: 'disputed', dispute: { status: 'lost' }, promoGranted: 0 });
      expect(await balance(buyer.id, 'PROMO', 'wallet')).toBe(0);
      expect(await balance(buyer.id, 'PROMO', 'debt')).toBe(-800);

      const { token } = (await lastMail(t, buyer.email, 'email_verification'))!.data;
      await t.http().post('/auth/email/verify').send({ token }).expect(204);
      const bonus = t.config.economy.emailVerifiedBonusPromo;
      expect(bonus).toBeLessThan(800);
      expect(await balance(buyer.id, 'PROMO', 'debt')).toBe(bonus - 800);
      expect(await balance(buyer.id, 'PROMO', 'wallet')).toBe(0);
      const balances = (await t.http().get('/me/balances').set(auth(buyer)).expect(200)).body;
      expect(balances.PROMO).toEqual({ wallet: 0, held: 0, debt: 800 - bonus });
    });

    it('claws back on a dispute, holds the account and records a chargeback; a won dispute releases and restores', async () => {
      const buyer = await newUser(t);
      const paid = await paidPurchase(buyer);
      await spend(buyer.id, 2_500);
      await deliverEvent(t, fake, fake.dispute(paid.paymentIntentId)).expect(200);
      await runJobs();
      expect(await purchase(buyer, paid.id)).toMatchObject({ status: 'disputed', dispute: { status: 'open' }, creditsGranted: 0 });
      expect(await balance(buyer.id, 'CREDIT', 'wallet')).toBe(0);
      expect(await balance(buyer.id, 'CREDIT', 'debt')).toBe(-2_500);
      expect(await t.sql(`SELECT kind FROM fraud_labels WHERE user_id = $1`, [buyer.id])).toEqual([{ kind: 'chargeback' }]);
      expect((await buy(buyer).expect(423)).body.code).toBe('ACCOUNT_ON_HOLD');
      const disputeId = (await purchase(buyer, paid.id)).dispute.id as string;
      // A system hold of the account guard: named by the dispute, placed by no one, audited.
      expect(await holdsOf(buyer.id)).toEqual([
        { reference: `dispute:${disputeId}`, placed_by: null, released_at: null, released_by: null },
      ]);
      expect(await holdAudit(buyer.id)).toEqual([{ action: 'account.hold_placed', actor_id: null, reference: `dispute:${disputeId}` }]);
      // A redelivered opening changes nothing.
      await deliverEvent(
        t,
        fake,
        fake.emit('charge.dispute.created', eventFor('charge.dispute.created', paid.paymentIntentId).data.object as never),
      ).expect(200);
      await runJobs();
      expect(await holdsOf(buyer.id)).toHaveLength(1);

      await deliverEvent(t, fake, fake.closeDispute(paid.paymentIntentId, 'won')).expect(200);
      await runJobs();
      expect(await purchase(buyer, paid.id)).toMatchObject({
        status: 'succeeded',
        dispute: { status: 'won' },
        creditsGranted: popular.credits,
      });
      expect(await balance(buyer.id, 'CREDIT', 'wallet')).toBe(popular.credits - 2_500);
      expect(await balance(buyer.id, 'CREDIT', 'debt')).toBe(0);
      expect(await holdsOf(buyer.id)).toEqual([
        { reference: `dispute:${disputeId}`, placed_by: null, released_at: expect.any(Date), released_by: null },
      ]);
      await buy(buyer).expect(201);
    });

    it('places the hold in the transaction that applies the dispute: rolled back together', async () => {
      const buyer = await newUser(t);
      const paid = await paidPurchase(buyer);
      const signals = t.app.get(PurchaseSignalsService);
      const purchases = t.app.get(TokenPurchasesRepository);
      await expect(
        t.dataSource.transaction(async (em) => {
          await signals.apply(em, (await purchases.lock(em, paid.id))!, {
            kind: 'dispute_opened',
            disputeId: `dp_rollback_${buyer.id}`,
          });
          expect(await em.query('SELECT reference FROM account_holds WHERE user_id = $1', [buyer.id])).toHaveLength(1);
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
      expect(await holdsOf(buyer.id)).toEqual([]);
      expect(await purchase(buyer, paid.id)).toMatchObject({ status: 'succeeded', dispute: null });
      await buy(buyer).expect(201);
    });

    it('a won dispute releases only its own hold: an admin hold placed during the dispute stays', async () => {
      const buyer = await newUser(t);
      const { paid, disputeId } = await disputedPurchase(buyer);
      const placed = await adminHold(buyer.id, 'hold', { reason: 'Looks like a card-testing ring' }).expect(200);
      expect(placed.body).toMatchObject({
        onHold: true,
        holds: [{ reference: `dispute:${disputeId}` }, { reference: 'admin', placedBy: admin.id }],
      });

      await deliverEvent(t, fake, fake.closeDispute(paid.paymentIntentId, 'won')).expect(200);
      await runJobs();
      expect(await purchase(buyer, paid.id)).toMatchObject({ status: 'succeeded', dispute: { status: 'won' } });
      expect(await holdsOf(buyer.id)).toEqual([
        { reference: `dispute:${disputeId}`, placed_by: null, released_at: expect.any(Date), released_by: null },
        { reference: null, placed_by: admin.id, released_at: null, released_by: null },
      ]);
      expect((await buy(buyer).expect(423)).body.code).toBe('ACCOUNT_ON_HOLD');
      await expect(t.app.get(AccountGuardService).assertMayMoveValue(buyer.id, 'credit_transfer')).rejects.toMatchObject({
        code: 'ACCOUNT_ON_HOLD',
      });
      const mail = await lastMail(t, buyer.email, 'security.account_released');
      expect(mail?.text).toMatch(/another hold remains/);

      await adminHold(buyer.id, 'release', { reason: 'Cleared', reference: 'admin' }).expect(200);
      await buy(buyer).expect(201);
    });

    it('a won dispute leaves an admin hold alone after an admin released the dispute hold and placed their own', async () => {
      const buyer = await newUser(t);
      const { paid, disputeId } = await disputedPurchase(buyer);
      expect((await adminHold(buyer.id, 'release', { reason: 'x', reference: 'dispute:dp_not_this_one' }).expect(409)).body.code).toBe(
        'INVALID_STATE',
      );
      const released = await adminHold(buyer.id, 'release', { reason: 'Customer called', reference: `dispute:${disputeId}` }).expect(200);
      expect(released.body).toMatchObject({ onHold: false, holds: [] });
      await adminHold(buyer.id, 'hold', { reason: 'Second look' }).expect(200);
      // Neither a redelivered opening nor the win touches the admin's hold, nor places the dispute's again.
      await deliverEvent(
        t,
        fake,
        fake.emit('charge.dispute.created', eventFor('charge.dispute.created', paid.paymentIntentId).data.object as never),
      ).expect(200);
      await deliverEvent(t, fake, fake.closeDispute(paid.paymentIntentId, 'won')).expect(200);
      await runJobs();
      expect(await purchase(buyer, paid.id)).toMatchObject({ dispute: { status: 'won' } });
      expect(await holdsOf(buyer.id)).toEqual([
        { reference: `dispute:${disputeId}`, placed_by: null, released_at: expect.any(Date), released_by: admin.id },
        { reference: null, placed_by: admin.id, released_at: null, released_by: null },
      ]);
      expect((await buy(buyer).expect(423)).body.code).toBe('ACCOUNT_ON_HOLD');
    });

    it('keeps the hold and records a lost dispute', async () => {
      const buyer = await newUser(t);
      const paid = await paidPurchase(buyer);
      const opened = fake.dispute(paid.paymentIntentId);
      const closed = fake.closeDispute(paid.paymentIntentId, 'lost');
      // Delivered out of order: the closing before the opening.
      await deliverEvent(t, fake, closed).expect(200);
      await deliverEvent(t, fake, opened).expect(200);
      await runJobs();
      expect(await purchase(buyer, paid.id)).toMatchObject({ status: 'disputed', dispute: { status: 'lost' }, creditsGranted: 0 });
      const kinds = await t.sql<{ kind: string }>(`SELECT kind FROM fraud_labels WHERE user_id = $1 ORDER BY kind`, [buyer.id]);
      expect(kinds.map((k) => k.kind)).toEqual(['chargeback', 'dispute_lost']);
      expect(await t.app.get(FraudService).countLabels(buyer.id, 'dispute_lost')).toBe(1);
      expect((await buy(buyer).expect(423)).body.code).toBe('ACCOUNT_ON_HOLD');

      // A refund of a disputed charge is an illegal transition: set aside as rejected, not retried, nothing moves.
      const charge = fake.charge(fake.paymentIntent(paid.paymentIntentId).latest_charge as string);
      const illegal = fake.emit('charge.refunded', { ...charge, amount_refunded: charge.amount, refunded: true });
      await deliverEvent(t, fake, illegal).expect(200);
      expect(await runJobs()).toMatchObject({ failed: 0 });
      const [rejected] = await t.sql<{ status: string; last_error: string }>('SELECT status, last_error FROM stripe_events WHERE id = $1', [
        illegal.id,
      ]);
      expect(rejected.status).toBe('rejected');
      expect(rejected.last_error).toMatch(/disputed/);
      expect(await purchase(buyer, paid.id)).toMatchObject({ status: 'disputed', refundedCents: 0 });
    });

    it('refunds once when admins refund the same purchase concurrently', async () => {
      const buyer = await newUser(t);
      const paid = await paidPurchase(buyer);
      const answers = await Promise.all(Array.from({ length: 3 }, () => adminRefund(paid.id, 'duplicate charge')));
      for (const a of answers) expect(a.status === 200 || (a.status === 409 && a.body.code === 'INVALID_STATE')).toBe(true);
      expect(answers.some((a) => a.status === 200)).toBe(true);
      expect(
        fake.requests
          .filter((r) => r.path === '/v1/refunds' && r.params.payment_intent === paid.paymentIntentId)
          .every((r) => r.idempotencyKey === `token_purchase:${paid.id}:refund`),
      ).toBe(true);
      expect(fake.eventsOfType('refund.created').filter((e) => JSON.stringify(e.data.object).includes(paid.paymentIntentId))).toHaveLength(
        1,
      );
      expect(await purchase(buyer, paid.id)).toMatchObject({ status: 'refunded', creditsGranted: 0 });
      expect(await balance(buyer.id, 'CREDIT', 'wallet')).toBe(0);
      expect(await balance(buyer.id, 'CREDIT', 'debt')).toBe(0);
    });

    it('lets one of 8 concurrent refunds of a purchase with different keys refund: the rest are 409, one audit entry, money moved once', async () => {
      const buyer = await newUser(t);
      const paid = await paidPurchase(buyer);
      const answers = await Promise.all(Array.from({ length: 8 }, () => adminRefund(paid.id, 'duplicate charge')));
      expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
      expect(answers.filter((a) => a.status === 409 && a.body.code === 'INVALID_STATE')).toHaveLength(7);
      const audits = await t.sql(`SELECT id FROM audit_log WHERE subject_id = $1 AND action = 'token_purchase.refund'`, [paid.id]);
      expect(audits).toHaveLength(1);
      const [{ n }] = await t.sql<{ n: number }>(
        `SELECT count(*)::int AS n FROM ledger_entries WHERE kind = 'clawback' AND metadata->>'purchaseId' = $1`,
        [paid.id],
      );
      expect(n).toBe(1);
      expect(await purchase(buyer, paid.id)).toMatchObject({ status: 'refunded', refundedCents: popular.priceCents, creditsGranted: 0 });
      expect(await balance(buyer.id, 'CREDIT', 'wallet')).toBe(0);
      expect(await balance(buyer.id, 'CREDIT', 'debt')).toBe(0);
      expect((await ledger.verify()).ok).toBe(true);
    });

    it('replays a refund for its key, refuses the key with another reason (422) and answers it in progress while decided', async () => {
      const buyer = await newUser(t);
      const paid = await paidPurchase(buyer);
      const key = randomUUID();
      await whileKeyIsDecided(t, admin.id, key, async () => {
        expect((await adminRefund(paid.id, 'customer asked', key).expect(409)).body.code).toBe('IDEMPOTENCY_IN_PROGRESS');
        // answered before the route's own checks: this purchase does not exist
        expect((await adminRefund(randomUUID(), 'customer asked', key).expect(409)).body.code).toBe('IDEMPOTENCY_IN_PROGRESS');
      });
      const refundRequests = () =>
        fake.requests.filter((r) => r.path === '/v1/refunds' && r.params.payment_intent === paid.paymentIntentId);
      expect(refundRequests()).toHaveLength(0);
      const first = await adminRefund(paid.id, 'customer asked', key).expect(200);
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      const again = await adminRefund(paid.id, 'customer asked', key).expect(200);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body).toEqual(first.body);
      expect((await adminRefund(paid.id, 'another reason', key).expect(422)).body.code).toBe('IDEMPOTENCY_KEY_REUSED');
      expect(refundRequests()).toHaveLength(1);
      const audits = await t.sql(`SELECT id FROM audit_log WHERE subject_id = $1 AND action = 'token_purchase.refund'`, [paid.id]);
      expect(audits).toHaveLength(1);
      expect(await balance(buyer.id, 'CREDIT', 'wallet')).toBe(0);
    });

    it('serializes different events of one purchase processed at the same time', async () => {
      const buyer = await newUser(t);
      const created = (await buy(buyer).expect(201)).body;
      fake.succeed(created.paymentIntentId);
      const events = [
        eventFor('payment_intent.succeeded', created.paymentIntentId),
        fake.dispute(created.paymentIntentId),
        fake.closeDispute(created.paymentIntentId, 'won'),
      ];
      for (const e of events) await deliverEvent(t, fake, e).expect(200);
      const processor = t.app.get(StripeEventsService);
      await Promise.all(events.map((e) => processor.process(e.id)));
      await runJobs();
      expect(await purchase(buyer, created.id)).toMatchObject({
        status: 'succeeded',
        dispute: { status: 'won' },
        creditsGranted: popular.credits,
      });
      expect(await balance(buyer.id, 'CREDIT', 'wallet')).toBe(popular.credits);
      await buy(buyer).expect(201);
    });

    it('rejects a payment whose amount does not match the package, and a malformed event', async () => {
      const buyer = await newUser(t);
      const created = (await buy(buyer).expect(201)).body;
      fake.succeed(created.paymentIntentId);
      const tampered = fake.emit('payment_intent.succeeded', { ...fake.paymentIntent(created.paymentIntentId), amount: 1 });
      await deliverEvent(t, fake, tampered).expect(200);
      await runJobs();
      expect(await t.sql('SELECT status FROM stripe_events WHERE id = $1', [tampered.id])).toEqual([{ status: 'rejected' }]);
      expect(await purchase(buyer, created.id)).toMatchObject({ status: 'pending', creditsGranted: 0 });
      const malformed = fake.emit('payment_intent.succeeded', { id: created.paymentIntentId, object: 'payment_intent' });
      await deliverEvent(t, fake, malformed).expect(200);
      expect(await runJobs()).toMatchObject({ failed: 0 });
      expect(await t.sql('SELECT status FROM stripe_events WHERE id = $1', [malformed.id])).toEqual([{ status: 'rejected' }]);
    });
  });
});

describe('payments sandbox: dev routes without STRIPE_SECRET_KEY', () => {
  let t: TestApp;
  let ledger: LedgerService;
  beforeAll(async () => {
    t = await startTestApp();
    ledger = t.app.get(LedgerService);
  });
  afterAll(() => t?.close());

  it('lists the sandbox routes in OpenAPI', async () => {
    const docs = await t.http().get('/docs-json').expect(200);
    expect(Object.keys(docs.body.paths)).toContain('/dev/payments/{paymentIntentId}/succeed');
  });

  it('pays, declines and disputes through the signed webhook route', async () => {
    const buyer = await newUser(t);
    const pkg = (await t.http().get('/token-packages').expect(200)).body.items[0];
    const auth = { Authorization: `Bearer ${buyer.accessToken}` };
    const created = (
      await t.http().post('/token-purchases').set(auth).set('Idempotency-Key', randomUUID()).send({ packageId: pkg.id }).expect(201)
    ).body;

    const paid = await t
      .http()
      .post(`/dev/payments/${created.paymentIntentId}/succeed`)
      .send({ cardCountry: 'DE', riskScore: 71 })
      .expect(200);
    expect(paid.body.events).toEqual([
      { eventId: expect.stringMatching(/^evt_/), type: 'charge.succeeded', webhookStatus: 200 },
      { eventId: expect.stringMatching(/^evt_/), type: 'payment_intent.succeeded', webhookStatus: 200 },
    ]);
    await t.http().post('/dev/jobs/run').expect(200);
    const view = await t.http().get(`/token-purchases/${created.id}`).set(auth).expect(200);
    expect(view.body).toMatchObject({ status: 'succeeded', creditsGranted: pkg.credits });
    expect(Number((await ledger.balance(userAccount(buyer.id, 'CREDIT', 'wallet'))).posted)).toBe(pkg.credits);

    expect((await t.http().post(`/dev/payments/${created.paymentIntentId}/fail`).expect(409)).body.code).toBe('INVALID_STATE');
    const disputed = await t.http().post(`/dev/payments/${created.paymentIntentId}/dispute`).send({}).expect(200);
    expect(disputed.body.events[0]).toMatchObject({ type: 'charge.dispute.created', webhookStatus: 200 });
    await t.http().post('/dev/jobs/run').expect(200);
    expect((await t.http().get(`/token-purchases/${created.id}`).set(auth).expect(200)).body.status).toBe('disputed');
    expect((await t.http().post('/dev/payments/pi_unknown/succeed').expect(404)).body.code).toBe('NOT_FOUND');
    expect((await ledger.verify()).ok).toBe(true);
  });

  /** A buyer's purchase paid through the sandbox's dev route, and an admin to refund it. */
  async function paidInSandbox() {
    const buyer = await newUser(t);
    const admin = await newUser(t, true);
    const pkg = (await t.http().get('/token-packages').expect(200)).body.items[0];
    const created = (
      await t
        .http()
        .post('/token-purchases')
        .set({ Authorization: `Bearer ${buyer.accessToken}` })
        .set('Idempotency-Key', randomUUID())
        .send({ packageId: pkg.id })
        .expect(201)
    ).body as { id: string; paymentIntentId: string };
    await t.http().post(`/dev/payments/${created.paymentIntentId}/succeed`).send({}).expect(200);
    await t.http().post('/dev/jobs/run').expect(200);
    const refund = (reason: string) =>
      t
        .http()
        .post(`/admin/token-purchases/${created.id}/refund`)
        .set({ Authorization: `Bearer ${admin.accessToken}` })
        .set('Idempotency-Key', randomUUID())
        .send({ reason });
    return { buyer, created, refund };
  }

  it('sends Stripe-side events of an admin refund to the webhook route too', async () => {
    const { buyer, created, refund } = await paidInSandbox();
    await refund('sandbox').expect(200);
    const received = await t.sql<{ type: string }>(`SELECT type FROM stripe_events WHERE payload::text LIKE $1 ORDER BY received_at`, [
      `%${created.paymentIntentId}%`,
    ]);
    expect(received.map((r) => r.type)).toEqual(expect.arrayContaining(['refund.created', 'charge.refunded']));
    await t.http().post('/dev/jobs/run').expect(200);
    expect(Number((await ledger.balance(userAccount(buyer.id, 'CREDIT', 'wallet'))).posted)).toBe(0);
    expect((await ledger.verify()).ok).toBe(true);
  });

  it('lets one of 8 concurrent admin refunds through while the sandbox delivers its events: the rest are 409, one audit entry', async () => {
    const { buyer, created, refund } = await paidInSandbox();
    const answers = await Promise.all(Array.from({ length: 8 }, () => refund('duplicate charge')));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409, 409, 409, 409, 409, 409, 409]);
    expect(answers.filter((a) => a.status === 409).every((a) => a.body.code === 'INVALID_STATE')).toBe(true);
    const audits = await t.sql(`SELECT id FROM audit_log WHERE subject_id = $1 AND action = 'token_purchase.refund'`, [created.id]);
    expect(audits).toHaveLength(1);
    await t.http().post('/dev/jobs/run').expect(200);
    const [{ n }] = await t.sql<{ n: number }>(
      `SELECT count(*)::int AS n FROM ledger_entries WHERE kind = 'clawback' AND metadata->>'purchaseId' = $1`,
      [created.id],
    );
    expect(n).toBe(1);
    expect(Number((await ledger.balance(userAccount(buyer.id, 'CREDIT', 'wallet'))).posted)).toBe(0);
    expect((await ledger.verify()).ok).toBe(true);
  });
});

describe('payments sandbox: DEV_ROUTES off', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ DEV_ROUTES: 'false' });
  });
  afterAll(() => t?.close());

  it('has no /dev/payments routes, in the router or in OpenAPI', async () => {
    expect((await t.http().post('/dev/payments/pi_1/succeed').send({}).expect(404)).body.code).toBe('NOT_FOUND');
    const docs = await t.http().get('/docs-json').expect(200);
    expect(Object.keys(docs.body.paths).filter((path) => path.startsWith('/dev'))).toEqual([]);
    expect(Object.keys(docs.body.paths)).toContain('/webhooks/stripe');
  });
});

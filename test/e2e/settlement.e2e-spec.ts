import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import Stripe from 'stripe';
import { LedgerService } from '../../src/ledger/ledger.service';
import { userAccount } from '../../src/ledger/ledger.types';
import { STRIPE_EVENT_QUEUE, StripeEventsService } from '../../src/payments/webhooks/stripe-events.service';
import { signUp, SignedUpUser } from '../support/auth';
import { startServerProcess } from '../support/child-processes';
import { deliverEvent, FakeStripe, startFakeStripe } from '../support/fake-stripe';
import { startTestApp, startTestAppBeside, TestApp } from '../support/test-app';

/**
 * Settlement: a received Stripe event is applied by the receiving process right after it is stored,
 * by any number of processes in parallel, exactly once; a stored event whose processing never
 * happened (the process died) is applied by the queued fallback.
 */

/** The token-purchase-velocity rule blocks a 6th purchase within an hour: five per buyer. */
const PURCHASES_PER_BUYER = 5;

const until = async (what: string, cond: () => Promise<boolean>, ms = 60_000, context = async () => '') => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`${what}: not reached in ${ms} ms${await context()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

interface Bought {
  id: string;
  paymentIntentId: string;
  buyer: SignedUpUser;
}

async function popularPackage(t: TestApp): Promise<{ id: string; credits: number }> {
  const list = await t.http().get('/token-packages').expect(200);
  return list.body.items.find((p: { name: string }) => p.name === 'Popular');
}

async function buy(t: TestApp, buyer: SignedUpUser, packageId: string): Promise<Bought> {
  const res = await t
    .http()
    .post('/token-purchases')
    .set('Authorization', `Bearer ${buyer.accessToken}`)
    .set('Idempotency-Key', randomUUID())
    .send({ packageId })
    .expect(201);
  return { id: res.body.id, paymentIntentId: res.body.paymentIntentId, buyer };
}

/** One card per buyer: the many-cards-per-day rule refuses a 4th card within a day. */
const succeededEvent = (fake: FakeStripe, p: Bought): Stripe.Event =>
  fake.succeed(p.paymentIntentId, { fingerprint: `fp-${p.buyer.id}` }).find((e) => e.type === 'payment_intent.succeeded')!;

/** How many transactions last wrote these events' rows (rows written by one transaction share its xmin). */
const transactionsOf = async (t: TestApp, eventIds: string[]) =>
  (await t.sql<{ n: number }>(`SELECT count(DISTINCT xmin::text)::int AS n FROM stripe_events WHERE id = ANY ($1::text[])`, [eventIds]))[0]
    .n;

const queued = async (t: TestApp) =>
  (await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM stripe_events WHERE status = 'queued'`))[0].n;

/** The mint and any other ledger entry of a purchase, and its payment_succeeded fraud decisions. */
async function effectsOf(t: TestApp, purchaseId: string) {
  const entries = await t.sql<{ reference: string }>(`SELECT reference FROM ledger_entries WHERE reference LIKE $1`, [
    `token_purchase:${purchaseId}:%`,
  ]);
  const [{ decisions }] = await t.sql<{ decisions: number }>(
    `SELECT count(*)::int AS decisions FROM fraud_decisions WHERE event_type = 'payment_succeeded' AND subject_id = $1`,
    [purchaseId],
  );
  return { entries: entries.map((e) => e.reference), decisions };
}

describe('settlement: Stripe events applied promptly, in parallel, exactly once', () => {
  let fake: FakeStripe;
  let stripeEnv: Record<string, string>;

  beforeAll(async () => {
    const started = await startFakeStripe();
    fake = started.fake;
    stripeEnv = started.env;
  });
  afterAll(() => fake?.stop());

  describe('in the receiving process', () => {
    let t: TestApp;
    beforeAll(async () => {
      // The fallback job waits a minute: only the prompt run can apply the event before that.
      t = await startTestApp({ ...stripeEnv, JOBS_ENABLED: 'true', WEBHOOK_FALLBACK_SECONDS: '60' });
    });
    afterAll(() => t?.close());

    it('mints right after the webhook is acknowledged, with no queue run, and removes the fallback job', async () => {
      const pkg = await popularPackage(t);
      const bought = await buy(t, await signUp(t), pkg.id);
      const event = succeededEvent(fake, bought);
      await deliverEvent(t, fake, event).expect(200);
      await until('the purchase succeeded', async () => (await effectsOf(t, bought.id)).entries.length > 0, 20_000);
      expect(await effectsOf(t, bought.id)).toEqual({ entries: [`token_purchase:${bought.id}:mint`], decisions: 1 });
      await until('the fallback job removed', async () => {
        const jobs = await t.sql(`SELECT 1 FROM pgboss.job WHERE name = $1 AND data->>'eventId' = $2`, [STRIPE_EVENT_QUEUE, event.id]);
        return jobs.length === 0;
      });
      expect(await t.sql('SELECT status FROM stripe_events WHERE id = $1', [event.id])).toEqual([{ status: 'processed' }]);
    });
  });

  describe('two server processes on one database', () => {
    let a: TestApp;
    let b: TestApp;
    // No hold-back: every event is applied by its prompt run and claimed by the queue workers of
    // both processes at the same time.
    const env = () => ({ ...stripeEnv, JOBS_ENABLED: 'true', WEBHOOK_FALLBACK_SECONDS: '0', WEBHOOK_CONCURRENCY: '8' });
    beforeAll(async () => {
      a = await startTestApp(env());
      b = await startTestAppBeside(a, env());
    });
    afterAll(async () => {
      await b?.close();
      await a?.close();
    });

    it('mints each of 100 purchases exactly once when every success arrives twice at both processes', async () => {
      const pkg = await popularPackage(a);
      const buyers = await Promise.all(Array.from({ length: 20 }, () => signUp(a)));
      const bought: Bought[] = [];
      for (const buyer of buyers) {
        for (let i = 0; i < PURCHASES_PER_BUYER; i++) bought.push(await buy(a, buyer, pkg.id));
      }
      // Each success as the same event to both processes, and as a second event (another id, the
      // same news, as Stripe may send) to both again: four deliveries, two stored events.
      const deliveries = bought.flatMap((p) => {
        const first = succeededEvent(fake, p);
        const again = fake.emit('payment_intent.succeeded', fake.paymentIntent(p.paymentIntentId) as never);
        return [first, again].flatMap((e) => [() => deliverEvent(a, fake, e), () => deliverEvent(b, fake, e)]);
      });
      for (let i = deliveries.length - 1; i > 0; i--) {
        const j = (i * 7919) % (i + 1);
        [deliveries[i], deliveries[j]] = [deliveries[j], deliveries[i]];
      }
      const answers = [];
      for (let i = 0; i < deliveries.length; i += 40) answers.push(...(await Promise.all(deliveries.slice(i, i + 40).map((d) => d()))));
      expect(answers.every((r) => r.status === 200)).toBe(true);
      expect(answers.filter((r) => r.body.duplicate === false)).toHaveLength(2 * bought.length);

      await until('every event applied', async () => (await queued(a)) === 0);
      for (const p of bought) {
        expect(await effectsOf(a, p.id)).toEqual({ entries: [`token_purchase:${p.id}:mint`], decisions: 1 });
      }
      const ledger = a.app.get(LedgerService);
      for (const buyer of buyers) {
        expect((await ledger.balance(userAccount(buyer.id, 'CREDIT', 'wallet'))).posted).toBe(BigInt(PURCHASES_PER_BUYER * pkg.credits));
      }
      const statuses = await a.sql<{ status: string; n: number }>(
        `SELECT status, count(*)::int AS n FROM stripe_events WHERE purchase_id = ANY ($1::uuid[]) GROUP BY status`,
        [bought.map((p) => p.id)],
      );
      expect(statuses).toEqual([{ status: 'processed', n: 2 * bought.length }]);
      // Applied several to a transaction, not one by one.
      const applied = await a.sql<{ id: string }>(`SELECT id FROM stripe_events WHERE purchase_id = ANY ($1::uuid[])`, [
        bought.map((p) => p.id),
      ]);
      expect(
        await transactionsOf(
          a,
          applied.map((e) => e.id),
        ),
      ).toBeLessThan(applied.length);
      expect((await ledger.verify()).ok).toBe(true);
    }, 180_000);
    it('ends refunded with nothing kept when a success and its refund are applied at the same time, in either order', async () => {
      const pkg = await popularPackage(a);
      const stripe = new Stripe(stripeEnv.STRIPE_SECRET_KEY, { ...fake.clientOptions, maxNetworkRetries: 0 });
      const buyers = await Promise.all(Array.from({ length: 4 }, () => signUp(a)));
      const bought: Bought[] = [];
      for (const buyer of buyers) {
        for (let i = 0; i < PURCHASES_PER_BUYER; i++) bought.push(await buy(a, buyer, pkg.id));
      }
      const deliveries = [];
      for (const [i, p] of bought.entries()) {
        const paid = succeededEvent(fake, p);
        await stripe.refunds.create({ payment_intent: p.paymentIntentId });
        const refunded = fake.events
          .filter((e) => e.type === 'charge.refunded' && JSON.stringify(e.data.object).includes(p.paymentIntentId))
          .at(-1)!;
        const [first, second] = i % 2 ? [a, b] : [b, a];
        deliveries.push(deliverEvent(first, fake, paid), deliverEvent(second, fake, refunded));
      }
      expect((await Promise.all(deliveries)).every((r) => r.status === 200)).toBe(true);
      await until('every event applied', async () => (await queued(a)) === 0);
      const rows = await a.sql<{ status: string; granted_credits: string; refunded_cents: string }>(
        `SELECT status, granted_credits::text, refunded_cents::text FROM token_purchases WHERE id = ANY ($1::uuid[])`,
        [bought.map((p) => p.id)],
      );
      expect(new Set(rows.map((r) => `${r.status}:${r.granted_credits}`))).toEqual(new Set(['refunded:0']));
      const ledger = a.app.get(LedgerService);
      for (const buyer of buyers) expect((await ledger.balance(userAccount(buyer.id, 'CREDIT', 'wallet'))).posted).toBe(0n);
      expect((await ledger.verify()).ok).toBe(true);
    }, 120_000);
  });

  describe('batched application (events applied several to a transaction)', () => {
    let t: TestApp;
    let processor: StripeEventsService;
    // No prompt runs and no workers: the test applies the stored events itself, all at once.
    beforeAll(async () => {
      t = await startTestApp({ ...stripeEnv, JOBS_ENABLED: 'false' });
      processor = t.app.get(StripeEventsService);
    });
    afterAll(() => t?.close());

    const statusOf = async (eventIds: string[]) =>
      Object.fromEntries(
        (await t.sql<{ id: string; status: string }>('SELECT id, status FROM stripe_events WHERE id = ANY ($1::text[])', [eventIds])).map(
          (r) => [r.id, r.status],
        ),
      );

    it('applies many events at once in shared transactions, each on its own: the valid ones mint once, the invalid ones are set aside', async () => {
      const pkg = await popularPackage(t);
      const buyers = await Promise.all(Array.from({ length: 4 }, () => signUp(t)));
      const bought: Bought[] = [];
      for (const buyer of buyers) for (let i = 0; i < 4; i++) bought.push(await buy(t, buyer, pkg.id));
      const [tamperedPurchase, ...paid] = bought;
      const valid = paid.map((p) => succeededEvent(fake, p));
      fake.succeed(tamperedPurchase.paymentIntentId);
      // Another amount than the purchase's: the state machine's check refuses it (INVALID_STATE).
      const tampered = fake.emit('payment_intent.succeeded', { ...fake.paymentIntent(tamperedPurchase.paymentIntentId), amount: 1 });
      const unknown = fake.emit('payment_intent.succeeded', {
        ...fake.paymentIntent(paid[0].paymentIntentId),
        id: 'pi_unknown_to_bazaar',
        metadata: {},
      });
      const events = [...valid, tampered, unknown];
      for (const e of events) await deliverEvent(t, fake, e).expect(200);

      await Promise.all(events.map((e) => processor.process(e.id)));
      expect(await statusOf(events.map((e) => e.id))).toEqual({
        ...Object.fromEntries(valid.map((e) => [e.id, 'processed'])),
        [tampered.id]: 'rejected',
        [unknown.id]: 'ignored',
      });
      for (const p of paid) expect(await effectsOf(t, p.id)).toEqual({ entries: [`token_purchase:${p.id}:mint`], decisions: 1 });
      expect(await effectsOf(t, tamperedPurchase.id)).toEqual({ entries: [], decisions: 0 });
      expect(
        await transactionsOf(
          t,
          valid.map((e) => e.id),
        ),
      ).toBeLessThan(valid.length);
      // Applying them all again changes nothing.
      await Promise.all(events.map((e) => processor.process(e.id)));
      for (const p of paid) expect(await effectsOf(t, p.id)).toEqual({ entries: [`token_purchase:${p.id}:mint`], decisions: 1 });
      expect((await t.app.get(LedgerService).verify()).ok).toBe(true);
    }, 120_000);

    it('fails a batch event that the database refuses on its own: the others commit, it stays queued and is applied once it can be', async () => {
      const pkg = await popularPackage(t);
      const buyers = await Promise.all(Array.from({ length: 2 }, () => signUp(t)));
      const bought: Bought[] = [];
      for (const buyer of buyers) for (let i = 0; i < 4; i++) bought.push(await buy(t, buyer, pkg.id));
      const events = bought.map((p) => succeededEvent(fake, p));
      for (const e of events) await deliverEvent(t, fake, e).expect(200);
      const culprit = bought[3];
      await t.sql(`CREATE FUNCTION refuse_probe() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'refused for the test'; END $$`);
      await t.sql(`CREATE TRIGGER refuse_probe BEFORE UPDATE ON token_purchases FOR EACH ROW
        WHEN (NEW.id = '${culprit.id}') EXECUTE FUNCTION refuse_probe()`);
      try {
        const runs = await Promise.allSettled(events.map((e) => processor.process(e.id)));
        expect(runs.map((r) => r.status)).toEqual(events.map((_, i) => (i === 3 ? 'rejected' : 'fulfilled')));
        expect((runs[3] as PromiseRejectedResult).reason).toMatchObject({ message: expect.stringContaining('refused for the test') });
      } finally {
        await t.sql('DROP TRIGGER refuse_probe ON token_purchases');
        await t.sql('DROP FUNCTION refuse_probe()');
      }
      for (const p of bought.filter((p) => p !== culprit)) {
        expect(await effectsOf(t, p.id)).toEqual({ entries: [`token_purchase:${p.id}:mint`], decisions: 1 });
      }
      expect(await effectsOf(t, culprit.id)).toEqual({ entries: [], decisions: 0 });
      expect(await t.sql('SELECT status, attempts, last_error FROM stripe_events WHERE id = $1', [events[3].id])).toEqual([
        { status: 'queued', attempts: 1, last_error: expect.stringContaining('refused for the test') },
      ]);
      await processor.process(events[3].id);
      expect(await effectsOf(t, culprit.id)).toEqual({ entries: [`token_purchase:${culprit.id}:mint`], decisions: 1 });
      expect((await t.app.get(LedgerService).verify()).ok).toBe(true);
    }, 120_000);
  });

  describe('a process that dies after acknowledging', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ ...stripeEnv, JOBS_ENABLED: 'true' });
    });
    afterAll(() => t?.close());

    it('leaves the stored event to the queued fallback, which another process applies once', async () => {
      const pkg = await popularPackage(t);
      const bought = await buy(t, await signUp(t), pkg.id);
      const event = succeededEvent(fake, bought);
      const server = await startServerProcess({
        ...stripeEnv,
        DATABASE_URL: t.db.url,
        PORT: '0',
        DEV_ROUTES: 'false',
        JOBS_ENABLED: 'true',
        // Its fallback job waits long enough for the process to be stopped before anyone takes it.
        WEBHOOK_FALLBACK_SECONDS: '5',
        PGAPPNAME: 'bazaar-dying',
        JWT_SECRET: t.config.jwtSecret,
        ENCRYPTION_KEY: t.config.encryptionKey.toString('base64'),
      });
      // Holding the purchase's row lock stops every attempt to apply the event inside its transaction.
      const locker = new Client({ connectionString: t.db.url });
      await locker.connect();
      try {
        await locker.query('BEGIN');
        await locker.query('SELECT 1 FROM token_purchases WHERE id = $1 FOR UPDATE', [bought.id]);
        const { payload, header } = fake.sign(event);
        const res = await fetch(`${server.base}/webhooks/stripe`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'Stripe-Signature': header },
          body: payload,
        });
        expect(res.status).toBe(200);
        await until(
          'the receiving process applying the event',
          async () => {
            // Not on the locking connection: a transaction keeps the first pg_stat_activity it read.
            const rows = await t.sql(`SELECT 1 FROM pg_stat_activity WHERE application_name = 'bazaar-dying' AND wait_event_type = 'Lock'`);
            return rows.length > 0;
          },
          30_000,
          async () => `\n${server.output()}`,
        );
        server.child.kill('SIGKILL');
        await server.stop();
        expect(await t.sql('SELECT status FROM stripe_events WHERE id = $1', [event.id])).toEqual([{ status: 'queued' }]);
      } finally {
        await locker.query('COMMIT').catch(() => undefined);
        await locker.end();
        if (server.child.exitCode === null) server.child.kill('SIGKILL');
      }
      await until('the fallback applied the event', async () => (await queued(t)) === 0);
      expect(await t.sql('SELECT status FROM stripe_events WHERE id = $1', [event.id])).toEqual([{ status: 'processed' }]);
      expect(await effectsOf(t, bought.id)).toEqual({ entries: [`token_purchase:${bought.id}:mint`], decisions: 1 });
      expect((await t.app.get(LedgerService).verify()).ok).toBe(true);
    }, 240_000);
  });
});

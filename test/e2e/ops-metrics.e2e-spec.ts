import { randomUUID } from 'node:crypto';
import { afterCommit } from '../../src/database/after-commit';
import { TransactionRunner } from '../../src/database/transaction-runner';
import { JobsService } from '../../src/jobs/jobs.service';
import { as, fund, makeAdmin, publishListing, signUp, signUpCreator, verifyLedger } from '../support/market-fixtures';
import { startTestApp, TestApp } from '../support/test-app';

const TOKEN = 'metrics-token-for-the-ops-suite';

describe('ops: business and queue metrics', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ METRICS_TOKEN: TOKEN });
  });
  afterAll(() => t?.close());

  async function scrape(): Promise<string> {
    return (await t.http().get('/metrics').set('Authorization', `Bearer ${TOKEN}`).expect(200)).text;
  }

  /** The value of one sample (`name{labels}`), 0 when absent. */
  async function sample(series: string): Promise<number> {
    const line = (await scrape()).split('\n').find((l) => l.startsWith(`${series} `));
    return line ? Number(line.slice(series.length + 1)) : 0;
  }

  it('needs the METRICS_TOKEN bearer token when it is set', async () => {
    const missing = await t.http().get('/metrics').expect(401);
    expect(missing.body).toMatchObject({ code: 'UNAUTHENTICATED', requestId: missing.headers['x-request-id'] });
    await t.http().get('/metrics').set('Authorization', 'Bearer wrong-token-wrong-token').expect(401);
    expect(await scrape()).toContain('http_request_duration_seconds');
  });

  it('counts a token purchase settled, its webhook events received and processed with their lag, and its ledger entry', async () => {
    const before = {
      settled: await sample('token_purchases_total{outcome="succeeded"}'),
      received: await sample('stripe_webhook_events_received_total{type="payment_intent.succeeded",duplicate="false"}'),
      processed: await sample('stripe_webhook_events_processed_total{status="processed"}'),
      lag: await sample('stripe_webhook_lag_seconds_count'),
      mints: await sample('ledger_entries_total{kind="mint"}'),
    };
    const buyer = await signUp(t, 'buyer');
    const pkg = (await t.http().get('/token-packages').expect(200)).body.items[0];
    const created = (await as(t, buyer).post('/token-purchases', { packageId: pkg.id }).expect(201)).body;
    await t.http().post(`/dev/payments/${created.paymentIntentId}/succeed`).send({}).expect(200);
    await t.http().post('/dev/jobs/run').expect(200);

    expect(await sample('token_purchases_total{outcome="succeeded"}')).toBe(before.settled + 1);
    expect(await sample('stripe_webhook_events_received_total{type="payment_intent.succeeded",duplicate="false"}')).toBe(
      before.received + 1,
    );
    expect(await sample('stripe_webhook_events_processed_total{status="processed"}')).toBeGreaterThanOrEqual(before.processed + 1);
    expect(await sample('stripe_webhook_lag_seconds_count')).toBeGreaterThanOrEqual(before.lag + 1);
    expect(await sample('ledger_entries_total{kind="mint"}')).toBe(before.mints + 1);
  });

  it('counts orders by outcome, and an idempotency conflict', async () => {
    const admin = await makeAdmin(t, await signUp(t, 'admin'));
    const creator = await signUpCreator(t);
    const hat = await publishListing(t, creator, admin, { profit: 50 });
    const rich = await signUp(t, 'rich');
    const poor = await signUp(t, 'poor');
    await fund(t, rich.id, 'CREDIT', 1000);
    const completed = await sample('orders_total{outcome="completed"}');
    const refused = await sample('orders_total{outcome="INSUFFICIENT_FUNDS"}');
    const reused = await sample('idempotency_conflicts_total{code="IDEMPOTENCY_KEY_REUSED"}');

    const key = randomUUID();
    const order = await as(t, rich).post('/orders', { listingId: hat.id, payWith: 'CREDIT' }, key).expect(201);
    expect(order.body.status).toBe('completed');
    await as(t, poor).post('/orders', { listingId: hat.id, payWith: 'CREDIT' }).expect(409);
    await as(t, rich).post('/orders', { listingId: hat.id, payWith: 'PROMO' }, key).expect(422);

    expect(await sample('orders_total{outcome="completed"}')).toBe(completed + 1);
    expect(await sample('orders_total{outcome="INSUFFICIENT_FUNDS"}')).toBe(refused + 1);
    expect(await sample('idempotency_conflicts_total{code="IDEMPOTENCY_KEY_REUSED"}')).toBe(reused + 1);
    expect((await verifyLedger(t)).ok).toBe(true);
  });

  it('reports the outbox backlog and lag, and the database pool', async () => {
    await t.sql('DELETE FROM outbox_messages');
    expect(await sample('outbox_messages{state="pending"}')).toBe(0);
    expect(await sample('outbox_lag_seconds')).toBe(0);
    await t.sql(`INSERT INTO outbox_messages (kind, payload, created_at) VALUES ('email', '{}', now() - interval '90 seconds')`);
    await t.sql(`INSERT INTO outbox_messages (kind, payload, attempts) VALUES ('email', '{}', 10)`);
    expect(await sample('outbox_messages{state="pending"}')).toBe(1);
    expect(await sample('outbox_messages{state="dead"}')).toBe(1);
    expect(await sample('outbox_lag_seconds')).toBeGreaterThanOrEqual(90);
    await t.sql('DELETE FROM outbox_messages');

    const text = await scrape();
    expect(text).toMatch(/^db_pool_connections\{state="in_use"\} \d+$/m);
    expect(text).toMatch(/^db_pool_connections\{state="idle"\} [1-9]\d*$/m);
    expect(text).toMatch(/^db_pool_connections\{state="waiting"\} 0$/m);
  });

  it('counts a failing job run', async () => {
    const jobs = t.app.get(JobsService);
    const before = await sample('job_failures_total{job="ops.test-failing"}');
    jobs.registerPeriodic({ name: 'ops.test-failing', run: () => Promise.reject(new Error('broken on purpose')) });
    try {
      await expect(jobs.runDue()).rejects.toThrow('broken on purpose');
    } finally {
      jobs.registerPeriodic({ name: 'ops.test-failing', run: async () => undefined });
    }
    expect(await sample('job_failures_total{job="ops.test-failing"}')).toBe(before + 1);
  });

  it('counts an effect once its transaction commits, never for a rollback or a savepoint rolled back', async () => {
    const tx = t.app.get(TransactionRunner);
    const fired: string[] = [];
    await tx.run(async (em) => {
      afterCommit(em, () => fired.push('outer'));
      await em
        .transaction(async (inner) => {
          afterCommit(inner, () => fired.push('savepoint rolled back'));
          throw new Error('roll back the savepoint');
        })
        .catch(() => undefined);
      await em.transaction(async (inner) => afterCommit(inner, () => fired.push('savepoint released')));
      expect(fired).toEqual([]);
    });
    await expect(
      tx.run(async (em) => {
        afterCommit(em, () => fired.push('rolled back'));
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    afterCommit(t.dataSource.manager, () => fired.push('no transaction'));
    expect(fired).toEqual(['outer', 'savepoint released', 'no transaction']);
  });
});

import { FastifyAdapter } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Client } from 'pg';
import PgBoss from 'pg-boss';
import { DataSource } from 'typeorm';
import { CommonModule } from '../../src/common/common.module';
import { loadConfig } from '../../src/config/app-config';
import { ConfigModule } from '../../src/config/config.module';
import { DatabaseModule } from '../../src/database/database.module';
import { JobsModule } from '../../src/jobs/jobs.module';
import { JobsService, PG_BOSS_SCHEMA } from '../../src/jobs/jobs.service';
import Stripe from 'stripe';
import { StripeConnection } from '../../src/payments/stripe/stripe.connection';
import { strongPassword, uniqueEmail } from '../support/auth';
import { runCliProcess } from '../support/child-processes';
import { as, balance, ledger, makeAdmin, signUp } from '../support/market-fixtures';
import { createTestDatabase, TestDatabase } from '../support/test-db';
import { startTestApp, startTestAppBeside, TestApp } from '../support/test-app';

/**
 * Two server instances on one database, as behind a load balancer: whatever one node did, the
 * other behaves as if it had done it itself (ARCHITECTURE.md: every piece of shared state lives in
 * PostgreSQL).
 */
describe('several nodes behave as one', () => {
  let a: TestApp;
  let b: TestApp;
  const env = { TRUST_PROXY: 'true', LOGIN_IP_FAILURES_PER_DAY: '6', LOGIN_LOCKOUT_THRESHOLD: '4' };

  beforeAll(async () => {
    a = await startTestApp(env);
    b = await startTestAppBeside(a, env);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  const login = (node: TestApp, ip: string, email: string, password: string) =>
    node.http().post('/auth/login').set('X-Forwarded-For', ip).send({ email, password });

  describe('login defence', () => {
    it('counts failed logins of one network across both nodes: RATE_LIMITED on either once the limit is reached', async () => {
      const ip = '203.0.113.41';
      for (let i = 0; i < 6; i++) {
        await login(i % 2 ? b : a, ip, uniqueEmail('sprayed'), 'wrong-password-x').expect(401);
      }
      for (const node of [a, b]) {
        const limited = await login(node, ip, uniqueEmail('sprayed'), 'wrong-password-x').expect(429);
        expect(limited.body.code).toBe('RATE_LIMITED');
        expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      }
      await login(b, '198.51.100.41', uniqueEmail('elsewhere'), 'wrong-password-x').expect(401);
    });

    it('locks an account after failures spread over both nodes, and the lock holds on each', async () => {
      const victim = await signUp(a, 'victim');
      for (let i = 0; i < 4; i++) {
        expect((await login(i % 2 ? a : b, `198.51.100.${60 + i}`, victim.email, `guess-${i}`).expect(401)).body.code).toBe(
          'INVALID_CREDENTIALS',
        );
      }
      for (const node of [a, b]) {
        expect((await login(node, '198.51.100.70', victim.email, victim.password).expect(423)).body.code).toBe('ACCOUNT_LOCKED');
      }
    });
  });

  describe('Idempotency-Key', () => {
    it('replays on node B the answer node A gave, and answers 409 on B while A is still deciding the key', async () => {
      const buyer = await signUp(a, 'buyer');
      const pkg = (await a.http().get('/token-packages').expect(200)).body.items[0] as { id: string };
      const key = randomUUID();
      const first = await as(a, buyer).post('/token-purchases', { packageId: pkg.id }, key).expect(201);
      const replay = await as(b, buyer).post('/token-purchases', { packageId: pkg.id }, key).expect(201);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.body).toEqual(first.body);

      // Node A's request is held in flight (its insert waits on a lock the test holds) with the key taken.
      const held = randomUUID();
      const runner = a.dataSource.createQueryRunner();
      await runner.startTransaction();
      let onA: Promise<{ status: number; body: { id: string } }> | undefined;
      try {
        await runner.query('LOCK TABLE token_purchases IN SHARE MODE');
        onA = as(a, buyer)
          .post('/token-purchases', { packageId: pkg.id }, held)
          .then((r) => r);
        await until(async () => {
          const [row] = await b.sql<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity
              WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO token_purchases%'`,
          );
          return row.n > 0;
        });
        const meanwhile = await as(b, buyer).post('/token-purchases', { packageId: pkg.id }, held).expect(409);
        expect(meanwhile.body.code).toBe('IDEMPOTENCY_IN_PROGRESS');
      } finally {
        await runner.commitTransaction();
        await runner.release();
      }
      const decided = await onA!;
      expect(decided.status).toBe(201);
      const after = await as(b, buyer).post('/token-purchases', { packageId: pkg.id }, held).expect(201);
      expect(after.body.id).toBe(decided.body.id);
      const rows = await a.sql(`SELECT id FROM token_purchases WHERE user_id = $1`, [buyer.id]);
      expect(rows).toHaveLength(2);
    });
  });

  describe('the Stripe sandbox', () => {
    const pay = (node: TestApp, pi: string) => node.http().post(`/dev/payments/${pi}/succeed`).send({});
    const purchase = async (node: TestApp, buyer: Awaited<ReturnType<typeof signUp>>) => {
      const pkg = (await node.http().get('/token-packages').expect(200)).body.items[0] as { id: string; credits: number };
      const created = await as(node, buyer).post('/token-purchases', { packageId: pkg.id }).expect(201);
      return { id: created.body.id as string, pi: created.body.paymentIntentId as string, credits: BigInt(pkg.credits) };
    };
    const status = async (id: string) =>
      (await a.sql<{ status: string }>(`SELECT status FROM token_purchases WHERE id = $1`, [id]))[0].status;

    it('settles through node B a purchase made through node A, minting once; refunds it through A', async () => {
      const buyer = await signUp(a, 'sandbox-buyer');
      const admin = await makeAdmin(b, await signUp(b, 'sandbox-admin'));
      const p = await purchase(a, buyer);
      const paid = await pay(b, p.pi).expect(200);
      expect(paid.body.events.map((e: { webhookStatus: number }) => e.webhookStatus)).toEqual([200, 200]);
      expect((await pay(a, p.pi).expect(409)).body.code).toBe('INVALID_STATE');
      await a.http().post('/dev/jobs/run').expect(200);
      await b.http().post('/dev/jobs/run').expect(200);
      expect(await balance(a, buyer.id, 'CREDIT')).toBe(p.credits);
      expect(await status(p.id)).toBe('succeeded');

      await as(a, admin).post(`/admin/token-purchases/${p.id}/refund`, { reason: 'multi-node test' }).expect(200);
      await b.http().post('/dev/jobs/run').expect(200);
      expect(await status(p.id)).toBe('refunded');
      expect(await balance(b, buyer.id, 'CREDIT')).toBe(0n);
    });

    it('disputes through node B a payment succeeded through node A, and closes the dispute through A', async () => {
      const buyer = await signUp(b, 'disputer');
      const p = await purchase(b, buyer);
      await pay(a, p.pi).expect(200);
      await b.http().post('/dev/jobs/run').expect(200);
      expect(await balance(a, buyer.id, 'CREDIT')).toBe(p.credits);
      const opened = await b.http().post(`/dev/payments/${p.pi}/dispute`).send({}).expect(200);
      expect(opened.body.events[0]).toMatchObject({ type: 'charge.dispute.created', webhookStatus: 200 });
      await a.http().post(`/dev/payments/${p.pi}/dispute`).send({ close: 'lost' }).expect(200);
      await a.http().post('/dev/jobs/run').expect(200);
      expect(await status(p.id)).toBe('disputed');
      expect((await b.http().post(`/dev/payments/${p.pi}/dispute`).send({ close: 'won' }).expect(409)).body.code).toBe('INVALID_STATE');
      const mints = await a.sql(`SELECT 1 FROM ledger_entries WHERE reference = $1`, [`token_purchase:${p.id}:mint`]);
      expect(mints).toHaveLength(1);
    });

    it("replays a Stripe Idempotency-Key sent to node A's sandbox when it reaches node B's, and shares the webhook secret", async () => {
      const [sa, sb] = [a, b].map((n) => n.app.get(StripeConnection));
      expect(sb.webhookSecret).toBe(sa.webhookSecret);
      const client = (c: StripeConnection) => new Stripe('sk_test_sandbox', { ...c.sandbox!.clientOptions, maxNetworkRetries: 0 });
      const params = { amount: 500, currency: 'usd' };
      const key = `multi-node-${randomUUID()}`;
      const first = await client(sa).paymentIntents.create(params, { idempotencyKey: key });
      const again = await client(sb).paymentIntents.create(params, { idempotencyKey: key });
      expect(again.id).toBe(first.id);
      await expect(client(sb).paymentIntents.create({ ...params, amount: 501 }, { idempotencyKey: key })).rejects.toMatchObject({
        type: 'StripeIdempotencyError',
      });
      expect((await client(sb).paymentIntents.retrieve(first.id)).amount).toBe(500);
    });

    it('keeps the ledger verifiable', async () => {
      expect((await ledger(b).verify()).ok).toBe(true);
    });
  });

  it('moves the business clock of both nodes', async () => {
    const before = Date.parse((await b.http().get('/dev/clock').expect(200)).body.now);
    await a.http().post('/dev/clock').send({ advanceSeconds: 86_400 }).expect(200);
    // Each node re-reads the shared offset every second (Clock.refresh).
    await until(async () => Date.parse((await b.http().get('/dev/clock').expect(200)).body.now) - before >= 86_400_000);
  });

  describe('secrets', () => {
    it('records the first node’s secret fingerprints, never the secrets, and the template database holds none', async () => {
      const rows = await a.sql<{ name: string; fingerprint: string }>(`SELECT name, fingerprint FROM secret_fingerprints ORDER BY name`);
      expect(rows.map((r) => r.name)).toEqual(['ENCRYPTION_KEY', 'JWT_SECRET']);
      for (const r of rows) {
        expect(r.fingerprint).toMatch(/^[0-9a-f]{64}$/);
        expect(r.fingerprint).not.toContain(a.config.jwtSecret);
      }
      const fresh = await createTestDatabase();
      const client = new Client({ connectionString: fresh.url });
      try {
        await client.connect();
        expect((await client.query('SELECT * FROM secret_fingerprints')).rows).toEqual([]);
      } finally {
        await client.end();
        await fresh.drop();
      }
    });

    it('refuses to start a node with another JWT_SECRET or ENCRYPTION_KEY, naming the secret', async () => {
      await expect(startTestAppBeside(a, { ...env, JWT_SECRET: 'another-jwt-secret-of-at-least-32-chars' })).rejects.toThrow(
        /Refusing to start: JWT_SECRET differs from the one this database was first started with/,
      );
      await expect(startTestAppBeside(a, { ...env, ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64') })).rejects.toThrow(
        /Refusing to start: ENCRYPTION_KEY differs/,
      );
    });

    it('refuses a CLI command that opens the application with another JWT_SECRET, naming it', async () => {
      const email = uniqueEmail('cli-admin');
      const run = await runCliProcess(
        ['create-admin', '--email', email],
        {
          DATABASE_URL: a.db.url,
          JWT_SECRET: 'another-jwt-secret-of-at-least-32-chars',
          ENCRYPTION_KEY: a.config.encryptionKey.toString('base64'),
        },
        `${strongPassword()}\n`,
      );
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('Refusing to start: JWT_SECRET differs from the one this database was first started with.');
      expect(await a.sql('SELECT 1 FROM users WHERE email = $1', [email])).toEqual([]);
    }, 60_000);
  });
});

describe('scheduled jobs with JOBS_ENABLED on two nodes', () => {
  const PROBE = 'multi-node-probe';
  const runs: { node: string; i: number }[] = [];
  const nodes: INestApplication[] = [];
  let db: TestDatabase;

  /** A node running the job runner only, with one periodic job that records which node ran it. */
  async function startNode(node: string): Promise<INestApplication> {
    const config = loadConfig({
      NODE_ENV: 'test',
      DATABASE_URL: db.url,
      JOBS_ENABLED: 'true',
      JWT_SECRET: 'x'.repeat(32),
      ENCRYPTION_KEY: Buffer.alloc(32).toString('base64'),
    });
    const probe = {
      provide: PROBE,
      inject: [JobsService],
      useFactory: (jobs: JobsService) =>
        jobs.registerPeriodic({ name: PROBE, cron: '0 0 1 1 *', run: async (now) => void runs.push({ node, i: now.getTime() }) }),
    };
    const mod = await Test.createTestingModule({
      imports: [ConfigModule.forRoot(config), DatabaseModule.forRoot(db.url, 5), CommonModule, JobsModule],
      providers: [probe],
    }).compile();
    const app = mod.createNestApplication(new FastifyAdapter(), { logger: false });
    await app.init();
    return app;
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    nodes.push(await startNode('A'), await startNode('B'));
  });
  afterAll(async () => {
    for (const n of nodes) await n.close();
    await db?.drop();
  });

  it('schedules the job once and runs each due run on one node only', async () => {
    const ds = nodes[0].get(DataSource);
    const schedules = await ds.query(`SELECT name FROM ${PG_BOSS_SCHEMA}.schedule WHERE name = $1`, [PROBE]);
    expect(schedules).toHaveLength(1);
    // What the cron would do at each due minute: queue the run; both nodes' workers compete for it.
    const boss = new PgBoss({ connectionString: db.url, schema: PG_BOSS_SCHEMA, supervise: false, schedule: false });
    await boss.start();
    try {
      for (let i = 0; i < 6; i++) await boss.send(PROBE, {});
    } finally {
      await boss.stop({ graceful: false, wait: true });
    }
    const settled = async () => {
      const [row] = await ds.query(`SELECT count(*)::int AS n FROM ${PG_BOSS_SCHEMA}.job WHERE name = $1 AND state = 'completed'`, [PROBE]);
      return (row as { n: number }).n === 6;
    };
    await until(settled, 60_000);
    expect(runs).toHaveLength(6);
  }, 90_000);
});

async function until(cond: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

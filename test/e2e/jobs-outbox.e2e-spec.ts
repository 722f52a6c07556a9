import { Injectable, INestApplication, Module, OnModuleInit } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import PgBoss from 'pg-boss';
import { DataSource } from 'typeorm';
import { CommonModule } from '../../src/common/common.module';
import { loadConfig } from '../../src/config/app-config';
import { ConfigModule } from '../../src/config/config.module';
import { DatabaseModule } from '../../src/database/database.module';
import { TransactionRunner } from '../../src/database/transaction-runner';
import { JobsModule } from '../../src/jobs/jobs.module';
import { JobsService, PG_BOSS_SCHEMA } from '../../src/jobs/jobs.service';
import { MailService } from '../../src/notifications/mail.service';
import { NotificationsModule } from '../../src/notifications/notifications.module';
import { OutboxService } from '../../src/notifications/outbox.service';
import { createTestDatabase, TestDatabase } from '../support/test-db';

const handled: string[] = [];
const periodicRuns: Date[] = [];
let failuresLeft = 0;
/** A job tagged 'held' starts, then waits for this gate. */
let heldStarted = false;
let releaseHeld: () => void = () => undefined;
const heldGate = new Promise<void>((r) => (releaseHeld = r));

@Injectable()
class Probe implements OnModuleInit {
  constructor(private readonly jobs: JobsService) {}
  onModuleInit(): void {
    this.jobs.registerQueue<{ tag: string }>({
      name: 'probe',
      retryLimit: 3,
      handle: async ({ tag }) => {
        if (failuresLeft > 0) {
          failuresLeft--;
          throw new Error('transient');
        }
        if (tag === 'held') {
          heldStarted = true;
          await heldGate;
        }
        handled.push(tag);
      },
    });
    this.jobs.registerPeriodic({ name: 'probe-periodic', run: async (now) => void periodicRuns.push(now) });
  }
}

@Module({ providers: [Probe] })
class ProbeModule {}

const until = async (cond: () => boolean | Promise<boolean>, ms = 15000) => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe('jobs (pg-boss) and the transactional outbox', () => {
  let db: TestDatabase;
  let app: INestApplication;
  let tx: TransactionRunner;
  let jobs: JobsService;

  beforeAll(async () => {
    db = await createTestDatabase();
    const config = loadConfig({
      NODE_ENV: 'test',
      DATABASE_URL: db.url,
      JOBS_ENABLED: 'true',
      JWT_SECRET: 'x'.repeat(32),
      ENCRYPTION_KEY: Buffer.alloc(32).toString('base64'),
    });
    const mod = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot(config),
        DatabaseModule.forRoot(db.url, 5),
        CommonModule,
        JobsModule,
        NotificationsModule,
        ProbeModule,
      ],
    }).compile();
    app = mod.createNestApplication(new FastifyAdapter(), { logger: false });
    await app.init();
    tx = app.get(TransactionRunner);
    jobs = app.get(JobsService);
  });
  afterAll(async () => {
    await app.close();
    await db.drop();
  });

  it('runs a job enqueued in a committed transaction, and never one whose transaction rolled back', async () => {
    await tx.run(async (em) => jobs.enqueue('probe', { tag: 'committed' }, em));
    await expect(
      tx.run(async (em) => {
        await jobs.enqueue('probe', { tag: 'rolled-back' }, em);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    await until(() => handled.includes('committed'));
    await new Promise((r) => setTimeout(r, 1500));
    expect(handled).not.toContain('rolled-back');
  });

  it('retries a failing job until it succeeds', async () => {
    failuresLeft = 1;
    await jobs.enqueue('probe', { tag: 'flaky' });
    await until(() => handled.includes('flaky'), 30000);
  });

  it('runDue runs periodic jobs at the business clock time', async () => {
    const before = periodicRuns.length;
    await jobs.runDue();
    expect(periodicRuns.length).toBe(before + 1);
  });

  it("runDue answers once this process's runs in flight have ended", async () => {
    await jobs.enqueue('probe', { tag: 'held' });
    await until(() => heldStarted);
    let answered = false;
    const run = jobs.runDue().then(() => (answered = true));
    try {
      await new Promise((r) => setTimeout(r, 500));
      expect(answered).toBe(false);
    } finally {
      releaseHeld();
    }
    await run;
    expect(handled).toContain('held');
  });

  it('delivers committed outbox email exactly once, even with concurrent dispatchers', async () => {
    const mail = app.get(MailService);
    await tx.run((em) => mail.send(em, { to: 'Someone@Example.com', subject: 'hello', text: 'body' }));
    await expect(
      tx.run(async (em) => {
        await mail.send(em, { to: 'someone@example.com', subject: 'never', text: 'x' });
        throw new Error('abort');
      }),
    ).rejects.toThrow();
    const outbox = app.get(OutboxService);
    await Promise.all([outbox.flush(), outbox.flush()]);
    await until(async () => (await mail.devMailbox('someone@example.com')).length > 0);
    const inbox = await mail.devMailbox('someone@example.com');
    expect(inbox.map((m) => m.subject)).toEqual(['hello']);
    const pending = await app.get(DataSource).query('SELECT count(*)::int AS n FROM outbox_messages WHERE sent_at IS NULL');
    expect(pending[0].n).toBe(0);
  });

  it("runs the schedules' send-it jobs on its own worker: a completion the database refuses is logged, never an unhandled rejection", async () => {
    // pg-boss's timekeeper turns a due schedule into a job of this queue; the job's data is the job to send.
    const sql = (text: string) => app.get(DataSource).query(text);
    await sql(`CREATE FUNCTION refuse_completion() RETURNS trigger LANGUAGE plpgsql AS $$
                 BEGIN RAISE EXCEPTION 'terminating connection' USING ERRCODE = '57P01'; END $$`);
    await sql(`CREATE TRIGGER refuse_completion BEFORE UPDATE ON ${PG_BOSS_SCHEMA}.job FOR EACH ROW
                 WHEN (NEW.name = '__pgboss__send-it' AND NEW.state = 'completed') EXECUTE FUNCTION refuse_completion()`);
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    const sender = new PgBoss({ connectionString: db.url, schema: PG_BOSS_SCHEMA, supervise: false, schedule: false, migrate: false });
    try {
      await sender.start();
      await sender.send('__pgboss__send-it', { name: 'probe', data: { tag: 'scheduled' } });
      await until(() => handled.includes('scheduled'));
      await new Promise((r) => setTimeout(r, 1000)); // the send-it job's completion follows the job it sent
      expect(rejections).toEqual([]);
    } finally {
      process.off('unhandledRejection', onRejection);
      await sender.stop({ graceful: false });
      await sql(`DROP TRIGGER refuse_completion ON ${PG_BOSS_SCHEMA}.job`);
    }
  });
});

import { Client } from 'pg';
import { JobsService } from '../../src/jobs/jobs.service';
import { startTestApp, TestApp } from '../support/test-app';

/** SQL as the test cluster's superuser, outside the application's database. */
async function asAdmin(text: string, params: unknown[] = []): Promise<void> {
  const c = new Client({ connectionString: process.env.BAZAAR_TEST_ADMIN_URL });
  await c.connect();
  try {
    await c.query(text, params);
  } finally {
    await c.end();
  }
}

describe('ops: liveness and readiness', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ HEALTH_OUTBOX_MAX_LAG_SECONDS: '60' });
  });
  afterAll(() => t?.close());
  afterEach(() => t.sql('DELETE FROM outbox_messages'));

  it('is live and ready with everything up, naming each check', async () => {
    const live = await t.http().get('/health/live').expect(200);
    expect(live.body).toMatchObject({ status: 'ok', info: { process: { status: 'up', pid: process.pid } } });
    const ready = await t.http().get('/health/ready').expect(200);
    expect(ready.body.status).toBe('ok');
    expect(ready.body.info).toMatchObject({
      database: { status: 'up' },
      jobs: { status: 'up', workers: false },
      outbox: { status: 'up', pending: 0, maxLagSeconds: 60 },
    });
  });

  it('is not ready while outbox delivery lags beyond HEALTH_OUTBOX_MAX_LAG_SECONDS, and ready again once delivered', async () => {
    await t.sql(`INSERT INTO outbox_messages (kind, payload, created_at) VALUES ('email', '{}', now() - interval '61 seconds')`);
    const lagging = await t.http().get('/health/ready').expect(503);
    expect(lagging.body.status).toBe('error');
    expect(Object.keys(lagging.body.error)).toEqual(['outbox']);
    expect(lagging.body.error.outbox).toMatchObject({
      status: 'down',
      pending: 1,
      maxLagSeconds: 60,
      message: 'outbox delivery is lagging',
    });
    expect(lagging.body.error.outbox.lagSeconds).toBeGreaterThanOrEqual(61);
    expect(lagging.body.info.database.status).toBe('up');
    await t.http().get('/health/live').expect(200);

    await t.sql(`UPDATE outbox_messages SET sent_at = now()`);
    await t.http().get('/health/ready').expect(200);
  });

  it('does not count a recent message, nor one out of attempts, as lag', async () => {
    await t.sql(`INSERT INTO outbox_messages (kind, payload) VALUES ('email', '{}')`);
    await t.sql(`INSERT INTO outbox_messages (kind, payload, created_at, attempts) VALUES ('email', '{}', now() - interval '1 day', 10)`);
    const ready = await t.http().get('/health/ready').expect(200);
    expect(ready.body.info.outbox).toMatchObject({ status: 'up', pending: 1 });
  });

  it('answers 503 naming the database (not 500) while the database refuses connections, and recovers', async () => {
    await asAdmin(`ALTER DATABASE ${t.db.name} ALLOW_CONNECTIONS false`);
    try {
      await asAdmin('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [t.db.name]);
      const health = await t.http().get('/health').expect(503);
      expect(health.body).toMatchObject({ status: 'error', error: { database: { status: 'down' } } });
      const ready = await t.http().get('/health/ready').expect(503);
      expect(ready.body.error).toMatchObject({ database: { status: 'down' }, outbox: { status: 'down' } });
      expect(ready.body.info.jobs.status).toBe('up');
      await t.http().get('/health/live').expect(200);
    } finally {
      await asAdmin(`ALTER DATABASE ${t.db.name} ALLOW_CONNECTIONS true`);
    }
    await t.http().get('/health').expect(200);
    await t.http().get('/health/ready').expect(200);
  });

  // Last: the job runner does not come back in this application.
  it('is not ready once the job runner has stopped, and still live', async () => {
    await t.app.get(JobsService).onApplicationShutdown();
    const ready = await t.http().get('/health/ready').expect(503);
    expect(Object.keys(ready.body.error)).toEqual(['jobs']);
    expect(ready.body.error.jobs).toEqual({ status: 'down', message: 'the job runner (pg-boss) is not running' });
    await t.http().get('/health/live').expect(200);
  });
});

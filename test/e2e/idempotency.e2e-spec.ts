import { Body, Controller, Module, Post } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { IsInt, Min } from 'class-validator';
import type { FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { CommonModule } from '../../src/common/common.module';
import { AppError } from '../../src/common/errors';
import { KEY_LOCK_SEED } from '../../src/common/idempotency/idempotency.repository';
import { IdempotencyService, IdempotentRequest } from '../../src/common/idempotency/idempotency.service';
import { Idempotent, IdempotentRequestOf } from '../../src/common/idempotency/idempotent.decorator';
import { ProblemFilter } from '../../src/common/problem.filter';
import { createValidationPipe } from '../../src/common/validation';
import { loadConfig } from '../../src/config/app-config';
import { ConfigModule } from '../../src/config/config.module';
import { DatabaseModule } from '../../src/database/database.module';
import { queryRows } from '../../src/database/sql';
import { createTestDatabase, TestDatabase } from '../support/test-db';

class CountDto {
  @IsInt()
  @Min(0)
  amount: number;
}

let gate: Promise<void> = Promise.resolve();
/** The database backends of the requests' transactions, in the order they did their effect. */
const backends: number[] = [];

/**
 * A value-moving route in miniature, on the one mechanism of every value-moving route: the key is
 * claimed and completed in the route's own transaction, and every executed request inserts one row
 * there (then waits for `gate`).
 */
@Controller('things')
class ThingsController {
  constructor(private readonly idempotency: IdempotencyService) {}

  @Post()
  @Idempotent()
  create(@Body() body: CountDto, @IdempotentRequestOf() request: IdempotentRequest) {
    return this.idempotency.run(request, async (em) => {
      const id = randomUUID();
      await queryRows(em, 'INSERT INTO things (id, user_id, key, amount) VALUES ($1, $2, $3, $4)', [
        id,
        request.userId,
        request.key,
        body.amount,
      ]);
      backends.push((await queryRows<{ pid: number }>(em, 'SELECT pg_backend_pid() AS pid'))[0].pid);
      await gate;
      if (body.amount === 13) throw new AppError('INSUFFICIENT_FUNDS', 'unlucky');
      return { id, amount: body.amount };
    });
  }
}

@Module({ controllers: [ThingsController] })
class ThingsModule {}

describe('idempotency keys (stored in PostgreSQL, per user)', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let ds: DataSource;
  const alice = randomUUID();
  const bob = randomUUID();
  const post = (user: string, key: string | undefined, body: object) => {
    const r = request(app.getHttpServer()).post('/things').set('x-test-user', user);
    return (key === undefined ? r : r.set('Idempotency-Key', key)).send(body);
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    const config = loadConfig({
      NODE_ENV: 'test',
      DATABASE_URL: db.url,
      JWT_SECRET: 'x'.repeat(32),
      ENCRYPTION_KEY: Buffer.alloc(32).toString('base64'),
    });
    const mod = await Test.createTestingModule({
      imports: [ConfigModule.forRoot(config), DatabaseModule.forRoot(db.url, 5), CommonModule, ThingsModule],
      providers: [{ provide: APP_FILTER, useClass: ProblemFilter }],
    }).compile();
    app = mod.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
    app
      .getHttpAdapter()
      .getInstance()
      .addHook('onRequest', (req: FastifyRequest & { user?: unknown }, _reply, next) => {
        req.user = { id: req.headers['x-test-user'] };
        next();
      });
    app.useGlobalPipes(createValidationPipe());
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    ds = app.get(DataSource);
    await ds.query('CREATE TABLE things (id uuid PRIMARY KEY, user_id uuid, key text, amount int)');
  });
  afterAll(async () => {
    await app.close();
    await db.drop();
  });

  it('replays the first response for the same key and body, executing once', async () => {
    const first = await post(alice, 'k-1', { amount: 5 }).expect(201);
    const again = await post(alice, 'k-1', { amount: 5 }).expect(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(await ds.query(`SELECT * FROM things WHERE key = 'k-1'`)).toHaveLength(1);
  });

  it('refuses the same key with a different body (422) and changes nothing', async () => {
    await post(alice, 'k-2', { amount: 5 }).expect(201);
    const res = await post(alice, 'k-2', { amount: 6 }).expect(422);
    expect(res.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await ds.query(`SELECT amount FROM things WHERE key = 'k-2'`)).toEqual([{ amount: 5 }]);
  });

  it('scopes keys per user', async () => {
    await post(alice, 'shared', { amount: 1 }).expect(201);
    const res = await post(bob, 'shared', { amount: 2 }).expect(201);
    expect(res.headers['idempotent-replayed']).toBeUndefined();
    expect(await ds.query(`SELECT * FROM things WHERE key = 'shared'`)).toHaveLength(2);
  });

  it('answers 409 IDEMPOTENCY_IN_PROGRESS while the first request is still running', async () => {
    let open!: () => void;
    gate = new Promise((r) => (open = r));
    const first = post(alice, 'k-3', { amount: 7 }).then((r) => r);
    await new Promise((r) => setTimeout(r, 100));
    const second = await post(alice, 'k-3', { amount: 7 }).expect(409);
    expect(second.body.code).toBe('IDEMPOTENCY_IN_PROGRESS');
    open();
    expect((await first).status).toBe(201);
    gate = Promise.resolve();
  });

  it('answers 409 IDEMPOTENCY_IN_PROGRESS while a transaction holds the key (an in-transaction route deciding it)', async () => {
    const runner = ds.createQueryRunner();
    await runner.startTransaction();
    try {
      await runner.query(`SELECT pg_advisory_xact_lock(hashtextextended($1::uuid::text || '/' || $2, $3))`, [
        alice,
        'k-held',
        KEY_LOCK_SEED,
      ]);
      expect((await post(alice, 'k-held', { amount: 3 }).expect(409)).body.code).toBe('IDEMPOTENCY_IN_PROGRESS');
      expect(await ds.query(`SELECT * FROM idempotency_keys WHERE key = 'k-held'`)).toHaveLength(0);
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
    await post(alice, 'k-held', { amount: 3 }).expect(201);
  });

  it('lets exactly one of many concurrent identical requests execute', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => post(alice, 'k-burst', { amount: 9 })));
    const statuses = results.map((r) => r.status);
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    expect(await ds.query(`SELECT * FROM things WHERE key = 'k-burst'`)).toHaveLength(1);
  });

  it('frees the key when the request fails, so a corrected retry can use it', async () => {
    await post(alice, 'k-4', { amount: 13 }).expect(409);
    await post(alice, 'k-4', { amount: 14 }).expect(201);
    expect(await ds.query(`SELECT amount FROM things WHERE key = 'k-4'`)).toEqual([{ amount: 14 }]);
  });

  it('does not let a request that crashed mid-flight (its transaction died) block the key', async () => {
    let open!: () => void;
    gate = new Promise((r) => (open = r));
    backends.length = 0;
    const first = post(alice, 'k-crashed', { amount: 1 }).then((r) => r);
    while (!backends.length) await new Promise((r) => setTimeout(r, 10));
    // The first request has claimed the key and done its effect in its transaction: its backend dies.
    await ds.query('SELECT pg_terminate_backend($1, 10000)', [backends[0]]);
    open();
    expect((await first).status).toBe(503);
    gate = Promise.resolve();
    const retry = await post(alice, 'k-crashed', { amount: 1 }).expect(201);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(await ds.query(`SELECT amount FROM things WHERE key = 'k-crashed'`)).toEqual([{ amount: 1 }]);
    expect(await ds.query(`SELECT status FROM idempotency_keys WHERE user_id = $1 AND key = 'k-crashed'`, [alice])).toEqual([
      { status: 'completed' },
    ]);
  });

  it('requires a well-formed key', async () => {
    expect((await post(alice, undefined, { amount: 1 }).expect(400)).body.code).toBe('IDEMPOTENCY_KEY_REQUIRED');
    expect((await post(alice, 'x'.repeat(256), { amount: 1 }).expect(400)).body.code).toBe('IDEMPOTENCY_KEY_REQUIRED');
  });
});

import type { EntityManager } from 'typeorm';
import { toAppError } from '../../src/common/problem.filter';
import { afterCommit } from '../../src/database/after-commit';
import { queryRows, queryRowsInOrder } from '../../src/database/sql';
import { TransactionRunner } from '../../src/database/transaction-runner';
import { roundTrips } from '../support/round-trips';
import { TestApp, useTestApp } from '../support/test-app';

/** TransactionRunner.run: BEGIN goes out with the first statement; the work commits at its end, all or nothing. */
describe('transactions (BEGIN sent with the first statement)', () => {
  let t: TestApp;
  let tx: TransactionRunner;
  const rows = async () => (await t.sql<{ n: number }>('SELECT n FROM batch_probe ORDER BY n')).map((r) => r.n);
  // Inside a transaction that has written, this is its id; in a new (autocommit) statement, NULL.
  const ownXid = async (em: Parameters<typeof queryRows>[0]) =>
    (await queryRows<{ xid: string | null }>(em, 'SELECT pg_current_xact_id_if_assigned()::text AS xid'))[0].xid;

  useTestApp((app) => (t = app));
  beforeAll(async () => {
    tx = t.app.get(TransactionRunner);
    await t.sql('CREATE TABLE batch_probe (n int PRIMARY KEY)');
    await t.sql('CREATE TABLE batch_deferred (n int, CONSTRAINT batch_deferred_n UNIQUE (n) DEFERRABLE INITIALLY DEFERRED)');
  });

  it('runs the work in one transaction and commits at the end', async () => {
    const inside = await tx.run(async (em) => {
      await queryRows(em, 'INSERT INTO batch_probe (n) VALUES ($1)', [1], { prepare: true });
      await queryRows(em, 'INSERT INTO batch_probe (n) VALUES ($1)', [2], { prepare: true });
      return ownXid(em);
    });
    expect(inside).not.toBeNull();
    expect(await rows()).toEqual([1, 2]);
  });

  it('rolls everything back when a statement fails, and reports its error', async () => {
    const failed = tx.run(async (em) => {
      await queryRows(em, 'INSERT INTO batch_probe (n) VALUES ($1)', [3], { prepare: true });
      await queryRows(em, 'INSERT INTO batch_probe (n) VALUES ($1)', [1], { prepare: true }); // duplicate key
    });
    await expect(failed).rejects.toMatchObject({ code: '23505' });
    expect(await rows()).toEqual([1, 2]);
  });

  it('reports a COMMIT that fails (a deferred constraint), keeping nothing', async () => {
    const failed = tx.run(async (em) => {
      await queryRows(em, 'INSERT INTO batch_deferred (n) VALUES ($1)', [7], { prepare: true });
      await queryRows(em, 'INSERT INTO batch_deferred (n) VALUES ($1)', [7], { prepare: true }); // refused at COMMIT
    });
    await expect(failed).rejects.toMatchObject({ code: '23505', constraint: 'batch_deferred_n' });
    expect(await t.sql('SELECT n FROM batch_deferred')).toEqual([]);
  });

  it('rolls back when the work fails', async () => {
    const failed = tx.run(async (em) => {
      await queryRows(em, 'INSERT INTO batch_probe (n) VALUES ($1)', [4], { prepare: true });
      throw new Error('refused');
    });
    await expect(failed).rejects.toThrow('refused');
    expect(await rows()).toEqual([1, 2]);
  });

  it('sends BEGIN together with the first statement: a round trip per statement, and one for COMMIT', async () => {
    const statements = (em: Parameters<typeof queryRows>[0]) =>
      queryRows(em, "SELECT 'wire probe' AS m").then(() => queryRows(em, 'SELECT 2 AS n', [], { prepare: true }));
    expect(await roundTrips(t, 'wire probe', () => tx.run(statements))).toEqual([3]);
    expect(await roundTrips(t, 'wire probe', () => tx.run(statements, { isolation: 'SERIALIZABLE' }))).toEqual([3]);
  });

  it('sends statements that must run in order at once: one round trip, each a statement of its own', async () => {
    // The marker is a parameter: a prepared statement's text goes out once per connection.
    const both = (em: EntityManager) =>
      queryRowsInOrder(em, [
        { text: "SELECT set_config('bazaar.probe', $1, true) AS v", params: ['wire probe'] },
        { text: "SELECT current_setting('bazaar.probe') AS v", params: [] },
      ]);
    expect(await tx.run(both)).toEqual([[{ v: 'wire probe' }], [{ v: 'wire probe' }]]);
    expect(await roundTrips(t, 'wire probe', () => tx.run(both))).toEqual([2]); // BEGIN with both, then COMMIT
    await expect(queryRowsInOrder(t.dataSource.manager, [{ text: 'SELECT 1', params: [] }])).rejects.toThrow(/needs a transaction/);
  });

  it('runs the work at the isolation level asked for', async () => {
    const level = (opts?: Parameters<TransactionRunner['run']>[1]) =>
      tx.run(async (em) => (await queryRows<{ l: string }>(em, 'SELECT current_setting($1) AS l', ['transaction_isolation']))[0].l, opts);
    expect(await level()).toBe('read committed');
    expect(await level({ isolation: 'REPEATABLE READ' })).toBe('repeatable read');
    expect(await level({ isolation: 'SERIALIZABLE' })).toBe('serializable');
  });

  it('runs prepared statements on their generic plans when asked, for that transaction only, still one round trip for BEGIN', async () => {
    const mode = (em: Parameters<typeof queryRows>[0]) =>
      queryRows<{ m: string }>(em, "SELECT current_setting('plan_cache_mode') AS m, 'wire probe' AS p").then(([r]) => r.m);
    expect(await tx.run(mode, { genericPlans: true, isolation: 'REPEATABLE READ' })).toBe('force_generic_plan');
    expect(await tx.run(mode)).toBe('auto'); // the pooled connections are back to the default
    expect(await roundTrips(t, 'wire probe', () => tx.run(mode, { genericPlans: true }))).toEqual([2]);
  });

  it('runs an attempt again after a serialization failure, and its after-commit callbacks once', async () => {
    let attempts = 0;
    const fired: number[] = [];
    await tx.run(async (em) => {
      const n = ++attempts;
      afterCommit(em, () => fired.push(n));
      await queryRows(em, 'INSERT INTO batch_probe (n) VALUES ($1)', [100 + n]);
      if (n === 1) await queryRows(em, "DO $$ BEGIN RAISE EXCEPTION 'forced' USING ERRCODE = '40001'; END $$");
    });
    expect(attempts).toBe(2);
    expect(fired).toEqual([2]);
    expect(await t.sql('SELECT n FROM batch_probe WHERE n > 100')).toEqual([{ n: 102 }]);
  });

  it('serves runBeside with its own pool, outside the transaction of the caller', async () => {
    await tx
      .run(async () => {
        await tx.runBeside((em) => queryRows(em, 'INSERT INTO batch_probe (n) VALUES (200)'));
        throw new Error('refused');
      })
      .catch(() => undefined);
    expect(await t.sql('SELECT n FROM batch_probe WHERE n = 200')).toEqual([{ n: 200 }]);
  });

  it('fails a transaction whose connection broke between its statements as the database being unavailable (503), at any next step', async () => {
    // The connection's backend ends (as PostgreSQL's shutdown ends them) while the transaction waits between statements.
    const steps: Record<string, (em: EntityManager) => Promise<unknown>> = {
      'a statement (TypeORM)': (em) => em.query('SELECT 1'),
      'a prepared statement (queryRows)': (em) => queryRows(em, 'SELECT 1', [], { prepare: true }),
      "a statement on the transaction's pg client": async (em) => (await em.queryRunner!.connect()).query('SELECT 1'),
      'the COMMIT': async () => undefined,
    };
    for (const [step, next] of Object.entries(steps)) {
      const failed = await tx
        .run(async (em) => {
          const [{ pid }] = await queryRows<{ pid: number }>(em, 'SELECT pg_backend_pid() AS pid');
          await t.sql('SELECT pg_terminate_backend($1)', [pid]);
          for (let waited = 0; !em.queryRunner!.isReleased; waited += 10) {
            if (waited > 5_000) throw new Error('the connection did not report its end');
            await new Promise((r) => setTimeout(r, 10));
          }
          await next(em);
        })
        .then(
          () => 'committed',
          (err: unknown) => err,
        );
      expect({ step, code: toAppError(failed).code }).toEqual({ step, code: 'SERVICE_UNAVAILABLE' });
    }
  });
});

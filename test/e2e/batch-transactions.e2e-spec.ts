import { queryRows } from '../../src/database/sql';
import { TransactionRunner } from '../../src/database/transaction-runner';
import { TestApp, useTestApp } from '../support/test-app';

/** TransactionRunner.runBatch: BEGIN goes out with the first statement; the work commits at its end, all or nothing. */
describe('batch transactions (BEGIN sent with the first statement)', () => {
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
    const inside = await tx.runBatch(async (em) => {
      await queryRows(em, 'INSERT INTO batch_probe (n) VALUES ($1)', [1], { prepare: true });
      await queryRows(em, 'INSERT INTO batch_probe (n) VALUES ($1)', [2], { prepare: true });
      return ownXid(em);
    });
    expect(inside).not.toBeNull();
    expect(await rows()).toEqual([1, 2]);
  });

  it('rolls everything back when a statement fails, and reports its error', async () => {
    const failed = tx.runBatch(async (em) => {
      await queryRows(em, 'INSERT INTO batch_probe (n) VALUES ($1)', [3], { prepare: true });
      await queryRows(em, 'INSERT INTO batch_probe (n) VALUES ($1)', [1], { prepare: true }); // duplicate key
    });
    await expect(failed).rejects.toMatchObject({ code: '23505' });
    expect(await rows()).toEqual([1, 2]);
  });

  it('reports a COMMIT that fails (a deferred constraint), keeping nothing', async () => {
    const failed = tx.runBatch(async (em) => {
      await queryRows(em, 'INSERT INTO batch_deferred (n) VALUES ($1)', [7], { prepare: true });
      await queryRows(em, 'INSERT INTO batch_deferred (n) VALUES ($1)', [7], { prepare: true }); // refused at COMMIT
    });
    await expect(failed).rejects.toMatchObject({ code: '23505', constraint: 'batch_deferred_n' });
    expect(await t.sql('SELECT n FROM batch_deferred')).toEqual([]);
  });

  it('rolls back when the work fails', async () => {
    const failed = tx.runBatch(async (em) => {
      await queryRows(em, 'INSERT INTO batch_probe (n) VALUES ($1)', [4], { prepare: true });
      throw new Error('refused');
    });
    await expect(failed).rejects.toThrow('refused');
    expect(await rows()).toEqual([1, 2]);
  });
});

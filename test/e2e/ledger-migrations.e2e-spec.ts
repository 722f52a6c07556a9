import { DataSource } from 'typeorm';
import { LedgerDirectCreditsDropped1763900013000 } from '../../migrations/1763900013000-LedgerDirectCreditsDropped';
import { LedgerOneStatementPost1763900028000 } from '../../migrations/1763900028000-LedgerOneStatementPost';
import { expectRoundTrip } from '../support/migration-round-trip';
import { createTestDatabase } from '../support/test-db';

/** The ledger's migrations that only replace database functions go down and up again cleanly. */
describe('ledger migrations', () => {
  it('1763900013000 (direct credits dropped) goes down to the functions with direct credits and up again', async () => {
    const db = await createTestDatabase();
    const ds = new DataSource({ type: 'postgres', url: db.url, extra: { max: 1 } });
    await ds.initialize();
    const qr = ds.createQueryRunner();
    const shape = async () =>
      (await qr.query(
        `SELECT p.proname AS name, pg_get_function_identity_arguments(p.oid) AS args, p.prosrc LIKE '%direct_credits%' AS direct,
                'plan_cache_mode=force_generic_plan' = ANY(p.proconfig) AS generic
           FROM pg_proc p WHERE p.proname IN ('ledger_lock_find_read', 'ledger_postings_apply') ORDER BY 1`,
      )) as { name: string; args: string; direct: boolean; generic: boolean }[];
    try {
      const migration = new LedgerDirectCreditsDropped1763900013000();
      const up = [
        {
          name: 'ledger_lock_find_read',
          args: 'holds boolean, refs text[], payers bigint[], needs bigint[]',
          direct: false,
          generic: true,
        },
        { name: 'ledger_postings_apply', args: '', direct: false, generic: true },
      ];
      expect(await shape()).toEqual(up);
      await migration.down(qr);
      expect(await shape()).toEqual([
        {
          name: 'ledger_lock_find_read',
          args: 'holds boolean, refs text[], payers bigint[], needs bigint[], receivers bigint[]',
          direct: true,
          generic: true,
        },
        { name: 'ledger_postings_apply', args: '', direct: true, generic: true },
      ]);
      await migration.up(qr);
      expect(await shape()).toEqual(up);
    } finally {
      await qr.release();
      await ds.destroy();
      await db.drop();
    }
  });

  it('1763900028000 (one-statement post) goes down to the transaction mark and its deferred check, and up again', async () => {
    await expectRoundTrip([new LedgerOneStatementPost1763900028000()], (schema) => {
      expect(schema).toContain('CREATE TABLE public.ledger_tx_checks');
      expect(schema).toContain('ledger_entries_mark');
      expect(schema).not.toContain('ledger_post(');
      expect(schema).not.toContain('ledger_insert_entries(');
    });
  });
});

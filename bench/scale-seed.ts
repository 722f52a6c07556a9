import { performance } from 'node:perf_hooks';
import { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { queryRows } from '../src/database/sql';
import { LedgerService, systemAccount } from '../src/ledger/ledger.service';
import { fmt } from './bench-db';

const CHUNK = 250_000;
const MINT = 1000;

/**
 * A database that has been in use: `users` more users, each with a CREDIT wallet, and `entries` ledger
 * entries over the past year, all by SQL. The first entries mint MINT credits into every wallet (the
 * benchmark's own buyers' included), the rest move 1 credit between two wallets, so every wallet has a
 * history of postings. The postings go through the real trigger (balances, pending credits, the
 * same-transaction rule) and the pending credits are folded as the compactor would, so `ledger verify`
 * passes. The entries are left for the sealer, which a server with jobs runs in the background.
 */
export async function seedHistory(app: INestApplication, url: string, users: number, entries: number): Promise<void> {
  const db = app.get(DataSource);
  const [{ now }] = await queryRows<{ now: Date }>(db, 'SELECT now() AS now');
  // the issuance account exists once anything was minted (the buyers' funding)
  const [issuance] = await queryRows<{ id: string }>(
    db,
    `SELECT id FROM ledger_accounts WHERE owner_id = '00000000-0000-0000-0000-000000000000' AND asset = 'CREDIT' AND name = 'issuance'`,
  );
  if (!issuance) throw new Error(`no ${JSON.stringify(systemAccount('issuance', 'CREDIT'))} account yet: fund the buyers first`);
  const pg = new Client({ connectionString: url });
  await pg.connect();
  const step = async (what: string, sql: string, params: unknown[] = []) => {
    const t = performance.now();
    const r = await pg.query(sql, params);
    console.log(`  ${what}: ${fmt((performance.now() - t) / 1000, 1)} s`);
    return r;
  };
  try {
    await step(
      `${users} users`,
      `INSERT INTO users (email, display_name, password_hash, roles, created_at, password_changed_at, updated_at, email_verified_at)
       SELECT 'scale-' || i || '@bench.local', 'Scale user ' || i, '$argon2id$bench', '{buyer}', t, t, t, t
       FROM generate_series(1, $1) i CROSS JOIN LATERAL (SELECT $2::timestamptz - (($1 - i) * interval '30 second') AS t) c`,
      [users, now],
    );
    await step(
      'their wallets',
      `WITH created AS (
         INSERT INTO ledger_accounts (owner_id, asset, name, allow_negative, created_at)
         SELECT id, 'CREDIT', 'wallet', false, created_at FROM users WHERE email LIKE 'scale-%' RETURNING id, allow_negative)
       INSERT INTO ledger_balances (account_id, allow_negative) SELECT id, allow_negative FROM created`,
    );
    await step(
      'wallet numbering',
      `CREATE TEMP TABLE scale_wallets AS
       SELECT row_number() OVER (ORDER BY id)::int AS n, id FROM ledger_accounts WHERE asset = 'CREDIT' AND name = 'wallet'`,
    );
    await pg.query('ALTER TABLE scale_wallets ADD PRIMARY KEY (n)');
    const wallets = Number((await pg.query('SELECT count(*) AS n FROM scale_wallets')).rows[0].n);
    const t0 = performance.now();
    for (let from = 1; from <= entries; from += CHUNK) {
      const to = Math.min(entries, from + CHUNK - 1);
      await pg.query('BEGIN');
      await pg.query(
        `INSERT INTO ledger_entries (reference, kind, content_hash, created_at)
         SELECT 'scale_history:' || k, CASE WHEN k <= $3 THEN 'scale_mint' ELSE 'scale_transfer' END,
                encode(sha256(('scale_history:' || k)::bytea), 'hex'), $4::timestamptz - (($5 - k) * interval '6 second')
         FROM generate_series($1::int, $2::int) k`,
        [from, to, wallets, now, entries],
      );
      // entry k: a mint into wallet k, or 1 credit from one wallet to another
      await pg.query(
        `INSERT INTO ledger_postings (entry_id, account_id, amount)
         SELECT e.id, p.account_id, p.amount
         FROM (SELECT id, split_part(reference, ':', 2)::int AS k FROM ledger_entries WHERE xid = pg_current_xact_id()) e
         CROSS JOIN LATERAL (SELECT 1 + (e.k * 37) % $2 AS src, 1 + (e.k * 101 + 7) % $2 AS dst) w
         CROSS JOIN LATERAL (
           SELECT $1::bigint AS account_id, -$3::bigint AS amount WHERE e.k <= $2
           UNION ALL SELECT (SELECT id FROM scale_wallets WHERE n = e.k), $3 WHERE e.k <= $2
           UNION ALL SELECT (SELECT id FROM scale_wallets WHERE n = w.src), -1 WHERE e.k > $2
           UNION ALL SELECT (SELECT id FROM scale_wallets WHERE n = CASE WHEN w.dst = w.src THEN 1 + w.src % $2 ELSE w.dst END), 1
             WHERE e.k > $2) p
         ORDER BY e.k`,
        [issuance.id, wallets, MINT],
      );
      await pg.query('COMMIT');
      const done = to;
      console.log(`  entries ${done} / ${entries} (${fmt(done / ((performance.now() - t0) / 1000), 0)} a second)`);
    }
  } finally {
    await pg.end();
  }
  let t = performance.now();
  await app.get(LedgerService).foldPendingCredits();
  console.log(`  pending credits folded: ${fmt((performance.now() - t) / 1000, 1)} s`);
  t = performance.now();
  await queryRows(db, 'VACUUM ANALYZE');
  console.log(`  VACUUM ANALYZE: ${fmt((performance.now() - t) / 1000, 1)} s`);
}

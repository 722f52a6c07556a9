import type { Pool } from 'pg';
import { SYSTEM_OWNER } from '../../src/ledger/entry-input';

/** Every account's balance as its postings sum it (the ledger's truth; ledger_balances is checked by verify). */
export async function postedBalances(db: Pool): Promise<Map<string, bigint>> {
  const rows = (
    await db.query<{ owner_id: string; asset: string; name: string; sum: string }>(
      `SELECT a.owner_id, a.asset, a.name, coalesce(sum(p.amount), 0)::text AS sum
         FROM ledger_accounts a LEFT JOIN ledger_postings p ON p.account_id = a.id
        GROUP BY a.id`,
    )
  ).rows;
  return new Map(rows.map((r) => [accountKey(r.owner_id, r.asset, r.name), BigInt(r.sum)]));
}

export const accountKey = (owner: string, asset: string, name: string) => `${owner}/${asset}/${name}`;
export const systemKey = (asset: string, name: string) => accountKey(SYSTEM_OWNER, asset, name);

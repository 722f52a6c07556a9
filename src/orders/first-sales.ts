import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';

const CACHE_LIMIT = 100_000;

/**
 * When each creator first earned from a sale (decides the longer hold for new creators). Rows never
 * change once committed (the table is append-only), so committed ones are cached in memory: after a
 * creator's first sale the hot path asks the database nothing.
 */
@Injectable()
export class FirstSales {
  private readonly cache = new Map<string, Date>();

  /** Records `now` as the first sale of creators that had none, and answers every creator's first sale. */
  async record(em: EntityManager, creatorIds: string[], now: Date): Promise<Map<string, Date>> {
    const out = new Map<string, Date>();
    const missing: string[] = [];
    for (const id of creatorIds) {
      const at = this.cache.get(id);
      if (at) out.set(id, at);
      else missing.push(id);
    }
    if (!missing.length) return out;
    missing.sort(); // a fixed insert order: two transactions with the same new creators never wait in a cycle
    // A concurrent first sale's row may be invisible to this statement's snapshot; its absence means "now".
    const rows = await queryRows<{ creator_id: string; first_sale_at: Date; committed: boolean }>(
      em,
      `WITH added AS (
         INSERT INTO creator_first_sales (creator_id, first_sale_at) SELECT unnest($1::uuid[]), $2::timestamptz
         ON CONFLICT (creator_id) DO NOTHING RETURNING creator_id, first_sale_at)
       SELECT creator_id::text, first_sale_at, false AS committed FROM added
       UNION ALL SELECT creator_id::text, first_sale_at, xmin <> pg_current_xact_id()::xid
         FROM creator_first_sales WHERE creator_id = ANY ($1::uuid[])`,
      [missing, now],
      { prepare: true },
    );
    if (this.cache.size > CACHE_LIMIT) this.cache.clear();
    for (const r of rows) {
      out.set(r.creator_id, r.first_sale_at);
      // Our own inserts (this statement's or an earlier one's) may still roll back: only rows other
      // transactions committed are cached.
      if (r.committed) this.cache.set(r.creator_id, r.first_sale_at);
    }
    for (const id of missing) if (!out.has(id)) out.set(id, now);
    return out;
  }
}

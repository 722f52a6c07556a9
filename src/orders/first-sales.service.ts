import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { compareText } from '../common/compare';
import { EarningsRepository } from './earnings.repository';

const CACHE_LIMIT = 100_000;

/**
 * When each creator first earned from a sale (EarningsMaturityPolicy: new creators wait longer). Rows
 * never change once committed (the table is append-only), so committed ones are cached in memory:
 * after a creator's first sale the hot path asks the database nothing.
 */
@Injectable()
export class FirstSalesService {
  private readonly cache = new Map<string, Date>();

  constructor(private readonly earnings: EarningsRepository) {}

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
    missing.sort(compareText); // a fixed insert order: two transactions with the same new creators never wait in a cycle
    const rows = await this.earnings.recordFirstSales(em, missing, now);
    if (this.cache.size > CACHE_LIMIT) this.cache.clear();
    for (const r of rows) {
      out.set(r.creator_id, r.first_sale_at);
      // Our own inserts (this statement's or an earlier one's) may still roll back: only rows other
      // transactions committed are cached.
      if (r.committed) this.cache.set(r.creator_id, r.first_sale_at);
    }
    // A concurrent first sale's row the statement could not see: its absence means "now".
    for (const id of missing) if (!out.has(id)) out.set(id, now);
    return out;
  }
}

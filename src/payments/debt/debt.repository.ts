import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { queryRows } from '../../database/sql';

/** Debt itself is a ledger balance; this is the payments module's lock over one user's debt movements. */
@Injectable()
export class DebtRepository {
  /** Takes a transaction-scoped advisory lock on the user's debt (released when `em`'s transaction ends). */
  async lock(em: EntityManager, userId: string): Promise<void> {
    await queryRows(em, `SELECT pg_advisory_xact_lock(hashtextextended('payments:debt:' || $1, 0))`, [userId]);
  }
}

import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';
import { ADMIN_ACCOUNT_HOLD } from './account-hold-references';

/** An account hold as it is stored; the admins' hold has no reference. */
export interface NewAccountHold {
  userId: string;
  reference: string | null;
  reason: string;
  placedBy: string | null;
  placedAt: Date;
}

export interface AccountHoldRelease {
  userId: string;
  releasedBy: string | null;
  reason: string;
  releasedAt: Date;
}

export interface ReleasedAccountHoldRow {
  id: string;
  reference: string | null;
}

export interface ActiveAccountHoldRow {
  reference: string | null;
  reason: string;
  placed_by: string | null;
  placed_at: Date;
}

/** The account_holds table (admins' and system holds on accounts). */
@Injectable()
export class AccountHoldsRepository {
  /** The admins' hold; throws PostgreSQL's unique violation when one is already active. */
  async insertAdmin(em: EntityManager, h: Omit<NewAccountHold, 'reference'>): Promise<void> {
    await queryRows(em, 'INSERT INTO account_holds (user_id, reason, placed_by, placed_at) VALUES ($1, $2, $3, $4)', [
      h.userId,
      h.reason,
      h.placedBy,
      h.placedAt,
    ]);
  }

  /** A referenced hold; false (nothing changes) when one with this reference was ever placed on the account. */
  async insertReferenced(em: EntityManager, h: NewAccountHold): Promise<boolean> {
    const rows = await queryRows(
      em,
      `INSERT INTO account_holds (user_id, reference, reason, placed_by, placed_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (user_id, reference) DO NOTHING RETURNING id`,
      [h.userId, h.reference, h.reason, h.placedBy, h.placedAt],
    );
    return rows.length > 0;
  }

  /**
   * Releases the active hold named by `reference` (`admin` for the admins' hold), or every active hold
   * when it is null.
   */
  releaseMatching(em: EntityManager, r: AccountHoldRelease, reference: string | null): Promise<ReleasedAccountHoldRow[]> {
    return queryRows<ReleasedAccountHoldRow>(
      em,
      `UPDATE account_holds SET released_at = $3, released_by = $2, release_reason = $4
       WHERE user_id = $1 AND released_at IS NULL
         AND ($5::text IS NULL OR reference IS NOT DISTINCT FROM NULLIF($5, '${ADMIN_ACCOUNT_HOLD}'))
       RETURNING id, reference`,
      [r.userId, r.releasedBy, r.releasedAt, r.reason, reference],
    );
  }

  /** Releases only the active hold with this (system) reference. */
  releaseReferenced(em: EntityManager, r: AccountHoldRelease, reference: string): Promise<ReleasedAccountHoldRow[]> {
    return queryRows<ReleasedAccountHoldRow>(
      em,
      `UPDATE account_holds SET released_at = $3, released_by = $4, release_reason = $5
       WHERE user_id = $1 AND reference = $2 AND released_at IS NULL RETURNING id, reference`,
      [r.userId, reference, r.releasedAt, r.releasedBy, r.reason],
    );
  }

  active(em: EntityManager, userId: string): Promise<ActiveAccountHoldRow[]> {
    return queryRows<ActiveAccountHoldRow>(
      em,
      `SELECT reference, reason, placed_by, placed_at FROM account_holds WHERE user_id = $1 AND released_at IS NULL ORDER BY placed_at, id`,
      [userId],
    );
  }

  /** Which of the users have an active hold (any reference). */
  async withActive(db: EntityManager | DataSource, userIds: string[]): Promise<Set<string>> {
    const rows = await queryRows<{ user_id: string }>(
      db,
      'SELECT DISTINCT user_id FROM account_holds WHERE user_id = ANY ($1::uuid[]) AND released_at IS NULL',
      [userIds],
      { prepare: true },
    );
    return new Set(rows.map((r) => r.user_id));
  }

  async anyActive(em: EntityManager, userId: string): Promise<boolean> {
    const [{ still }] = await queryRows<{ still: boolean }>(
      em,
      'SELECT EXISTS (SELECT 1 FROM account_holds WHERE user_id = $1 AND released_at IS NULL) AS still',
      [userId],
    );
    return still;
  }
}

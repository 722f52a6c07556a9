import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';

export type CoolingReason = 'password_reset' | 'email_change' | 'totp_disabled' | 'new_device';

/** What decides whether value may leave an account, as of one moment. */
export interface AccountStateRow {
  on_hold: boolean;
  frozen_at: Date | null;
  unfreeze_at: Date | null;
  cooling_until: Date | null;
  cooling_reason: CoolingReason | null;
  totp: boolean;
}

/** The state of the user `user` as of `now` (SQL expressions: parameters, or another statement's columns), one row. */
function stateQuery(user: string, now: string): string {
  return `SELECT
      EXISTS (SELECT 1 FROM account_holds WHERE user_id = ${user} AND released_at IS NULL) AS on_hold,
      f.frozen_at, f.unfreeze_at,
      c.ends_at AS cooling_until, c.reason AS cooling_reason,
      EXISTS (SELECT 1 FROM totp_credentials WHERE user_id = ${user} AND confirmed_at IS NOT NULL) AS totp
    FROM (SELECT 1) AS one
    LEFT JOIN account_freezes f ON f.user_id = ${user} AND (f.unfreeze_at IS NULL OR f.unfreeze_at > ${now})
    LEFT JOIN LATERAL (
      SELECT ends_at, reason FROM cooling_periods WHERE user_id = ${user} AND starts_at <= ${now} AND ends_at > ${now}
      ORDER BY ends_at DESC LIMIT 1
    ) c ON true`;
}

/** The state read across account_holds, account_freezes, cooling_periods and totp_credentials; cooling periods and freezes. */
@Injectable()
export class AccountStateRepository {
  async read(db: EntityManager | DataSource, userId: string, now: Date): Promise<AccountStateRow> {
    const rows = await queryRows<AccountStateRow>(db, stateQuery('$1', '$2'), [userId, now], { prepare: true });
    return rows[0];
  }

  /** The state as one jsonb select-list item of another statement, for `user` as of `now` (SQL expressions there). */
  stateColumn(user: string, now: string): string {
    return `(SELECT to_jsonb(st) FROM (${stateQuery(user, now)}) st)`;
  }

  /** What `stateColumn` yielded, as `read` answers it. */
  stateOfJson(json: Record<string, unknown>): AccountStateRow {
    const date = (v: unknown) => (v === null ? null : new Date(v as string));
    return {
      on_hold: json.on_hold as boolean,
      frozen_at: date(json.frozen_at),
      unfreeze_at: date(json.unfreeze_at),
      cooling_until: date(json.cooling_until),
      cooling_reason: json.cooling_reason as CoolingReason | null,
      totp: json.totp as boolean,
    };
  }

  async insertCooling(em: EntityManager, userId: string, reason: CoolingReason, startsAt: Date, endsAt: Date): Promise<void> {
    await queryRows(em, 'INSERT INTO cooling_periods (user_id, reason, starts_at, ends_at) VALUES ($1, $2, $3, $4)', [
      userId,
      reason,
      startsAt,
      endsAt,
    ]);
  }

  /** Frozen from `now` (or since a freeze still in force); a pending unfreeze is cancelled. */
  async freeze(em: EntityManager, userId: string, now: Date): Promise<void> {
    await queryRows(
      em,
      `INSERT INTO account_freezes (user_id, frozen_at, unfreeze_at) VALUES ($1, $2, NULL)
       ON CONFLICT (user_id) DO UPDATE SET
         frozen_at = CASE WHEN account_freezes.unfreeze_at IS NULL OR account_freezes.unfreeze_at > $2
                          THEN account_freezes.frozen_at ELSE $2 END,
         unfreeze_at = NULL`,
      [userId, now],
    );
  }

  /** Schedules the unfreeze of a freeze in force (keeping one already scheduled); when it takes effect, or null if not frozen. */
  async scheduleUnfreeze(em: EntityManager, userId: string, unfreezeAt: Date, now: Date): Promise<Date | null> {
    const rows = await queryRows<{ unfreeze_at: Date }>(
      em,
      `UPDATE account_freezes SET unfreeze_at = COALESCE(unfreeze_at, $2)
       WHERE user_id = $1 AND (unfreeze_at IS NULL OR unfreeze_at > $3) RETURNING unfreeze_at`,
      [userId, unfreezeAt, now],
    );
    return rows.length ? rows[0].unfreeze_at : null;
  }
}

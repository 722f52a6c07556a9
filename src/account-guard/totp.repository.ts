import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';

type Db = EntityManager | DataSource;

export interface TotpSecretRow {
  secret_ciphertext: Buffer;
  last_used_step: string | null;
}

/** totp_credentials: one authenticator per user, counted once confirmed with a code. */
@Injectable()
export class TotpRepository {
  async exists(db: Db, userId: string, confirmed: boolean): Promise<boolean> {
    const rows = await queryRows(db, 'SELECT 1 FROM totp_credentials WHERE user_id = $1 AND (confirmed_at IS NOT NULL) = $2', [
      userId,
      confirmed,
    ]);
    return rows.length > 0;
  }

  /** When the user's authenticator was confirmed (2FA on since), or null when 2FA is off. */
  async confirmedAt(db: Db, userId: string): Promise<Date | null> {
    const rows = await queryRows<{ confirmed_at: Date }>(
      db,
      'SELECT confirmed_at FROM totp_credentials WHERE user_id = $1 AND confirmed_at IS NOT NULL',
      [userId],
    );
    return rows[0]?.confirmed_at ?? null;
  }

  /** Starts (or restarts) an unconfirmed enrolment; false when a confirmed authenticator is on. */
  async enroll(em: EntityManager, userId: string, secretCiphertext: Buffer, now: Date): Promise<boolean> {
    const rows = await queryRows(
      em,
      `INSERT INTO totp_credentials (user_id, secret_ciphertext, created_at) VALUES ($1, $2, $3)
       ON CONFLICT (user_id) DO UPDATE SET secret_ciphertext = $2, created_at = $3, last_used_step = NULL
       WHERE totp_credentials.confirmed_at IS NULL RETURNING user_id`,
      [userId, secretCiphertext, now],
    );
    return rows.length > 0;
  }

  /** Removes the confirmed authenticator; false when there is none. */
  async deleteConfirmed(em: EntityManager, userId: string): Promise<boolean> {
    const rows = await queryRows(em, 'DELETE FROM totp_credentials WHERE user_id = $1 AND confirmed_at IS NOT NULL RETURNING user_id', [
      userId,
    ]);
    return rows.length > 0;
  }

  async findSecret(db: Db, userId: string, confirmed: boolean): Promise<TotpSecretRow | undefined> {
    const rows = await queryRows<TotpSecretRow>(
      db,
      `SELECT secret_ciphertext, last_used_step FROM totp_credentials WHERE user_id = $1 AND (confirmed_at IS NOT NULL) = $2`,
      [userId, confirmed],
    );
    return rows[0];
  }

  /**
   * Records `step` as used (and confirms the enrolment) only if it is newer than the last one used and
   * the secret is still `secretCiphertext`; false otherwise.
   */
  async claimStep(db: Db, userId: string, confirmed: boolean, secretCiphertext: Buffer, step: number, now: Date): Promise<boolean> {
    const rows = await queryRows(
      db,
      `UPDATE totp_credentials SET last_used_step = $2, confirmed_at = COALESCE(confirmed_at, $3)
       WHERE user_id = $1 AND (confirmed_at IS NOT NULL) = $4 AND secret_ciphertext = $5
         AND (last_used_step IS NULL OR last_used_step < $2) RETURNING user_id`,
      [userId, step, now, confirmed, secretCiphertext],
    );
    return rows.length > 0;
  }
}

import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { queryRows } from '../../../database/sql';
import { KEY_LOCK_SEED, KeyRef, keyLockSql, StoredKeyRow, toStoredKey, StoredKey } from '../idempotency.repository';

/** The legacy interceptor's claims: `in_progress` rows written outside the route's transaction (autocommit). */
@Injectable()
export class LegacyIdempotencyRepository {
  /**
   * Inserts an `in_progress` claim unless a transaction holds the key's lock (an in-transaction route
   * deciding a request with this key) or the key is stored already.
   */
  async claim(db: DataSource, k: KeyRef, requestHash: string, lockSeconds: number): Promise<{ free: boolean; inserted: boolean }> {
    const [claim] = await queryRows<{ free: boolean; inserted: boolean }>(
      db,
      `WITH lock AS MATERIALIZED (SELECT ${keyLockSql('$1::uuid', '$2::text', '$5')} AS free),
       ins AS (
         INSERT INTO idempotency_keys (user_id, key, request_hash, status, locked_until)
         SELECT $1, $2, $3, 'in_progress', now() + make_interval(secs => $4) FROM lock WHERE lock.free
         ON CONFLICT (user_id, key) DO NOTHING RETURNING key)
       SELECT (SELECT free FROM lock) AS free, EXISTS (SELECT 1 FROM ins) AS inserted`,
      [k.userId, k.key, requestHash, lockSeconds, KEY_LOCK_SEED],
      { prepare: true },
    );
    return claim;
  }

  async find(db: DataSource, k: KeyRef): Promise<StoredKey | undefined> {
    const rows = await queryRows<Omit<StoredKeyRow, 'stale'>>(
      db,
      'SELECT request_hash, status, response_status, response_body FROM idempotency_keys WHERE user_id = $1 AND key = $2',
      [k.userId, k.key],
      { prepare: true },
    );
    return rows[0] && toStoredKey({ ...rows[0], stale: false });
  }

  /** Takes over a crashed request's claim once its lock time has passed; answers whether it did. */
  async takeOver(db: DataSource, k: KeyRef, lockSeconds: number): Promise<boolean> {
    const rows = await queryRows(
      db,
      `UPDATE idempotency_keys SET locked_until = now() + make_interval(secs => $3)
       WHERE user_id = $1 AND key = $2 AND status = 'in_progress' AND locked_until < now() RETURNING key`,
      [k.userId, k.key, lockSeconds],
      { prepare: true },
    );
    return rows.length > 0;
  }

  async complete(db: DataSource, k: KeyRef, status: number, body: unknown): Promise<void> {
    await queryRows(
      db,
      `UPDATE idempotency_keys SET status = 'completed', response_status = $3, response_body = $4::jsonb, completed_at = now()
       WHERE user_id = $1 AND key = $2`,
      [k.userId, k.key, status, JSON.stringify(body ?? null)],
      { prepare: true },
    );
  }

  async release(db: DataSource, k: KeyRef): Promise<void> {
    await queryRows(db, `DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND status = 'in_progress'`, [k.userId, k.key], {
      prepare: true,
    });
  }
}

import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows, queryRowsInOrder } from '../../database/sql';

/** Advisory lock namespace of idempotency keys: a transaction deciding a request holds its key's lock. */
export const KEY_LOCK_SEED = 731_000_002;

/** SQL trying the transaction-scoped advisory lock of (user, key): the same lock in every statement. */
export const keyLockSql = (userId: string, key: string, seed: string) =>
  `pg_try_advisory_xact_lock(hashtextextended(${userId}::text || '/' || ${key}, ${seed}))`;

/** A request's key: keys are scoped per user. */
export interface KeyRef {
  userId: string;
  key: string;
}

export const keyId = (k: KeyRef): string => `${k.userId}/${k.key}`;

/** A completed key: the request it was used for and its first response. */
export interface StoredKey {
  requestHash: string;
  responseStatus: number;
  responseBody: unknown;
}

export interface StoredKeyRow {
  request_hash: string;
  response_status: number | null;
  response_body: unknown;
}

export function toStoredKey(r: StoredKeyRow): StoredKey {
  return { requestHash: r.request_hash, responseStatus: r.response_status ?? 200, responseBody: r.response_body };
}

/** A request decided in a transaction, with the response to record for its key. */
export interface CompletedKey extends KeyRef {
  requestHash: string;
  responseStatus: number;
  responseBody: unknown;
}

const STORED_KEY_COLUMNS = 'k.request_hash, k.response_status, k.response_body';
/**
 * Keys are written `completed` only; a row in another status can only be left over from before every
 * key was claimed in its route's transaction, and counts as no key.
 */
const COMPLETED = `k.status = 'completed'`;

/** The `idempotency_keys` table, and the advisory locks of its keys. */
@Injectable()
export class IdempotencyRepository {
  /**
   * In a statement of its own (the lock is released when it ends): whether a transaction holds the
   * key's lock right now, and the stored key if there is one.
   */
  async peek(db: DataSource, k: KeyRef): Promise<{ free: boolean; stored?: StoredKey }> {
    const [row] = await queryRows<{ free: boolean } & Partial<StoredKeyRow>>(
      db,
      `SELECT ${keyLockSql('$1::uuid', '$2::text', '$3')} AS free, ${STORED_KEY_COLUMNS}
         FROM (SELECT 1) one LEFT JOIN idempotency_keys k ON k.user_id = $1 AND k.key = $2 AND ${COMPLETED}`,
      [k.userId, k.key, KEY_LOCK_SEED],
      { prepare: true },
    );
    const stored = row.request_hash !== null && row.request_hash !== undefined ? toStoredKey(row as StoredKeyRow) : undefined;
    return { free: row.free, stored };
  }

  /**
   * Tries the keys' locks for the rest of the transaction, then reads the stored keys among them: per
   * key, whether this transaction got its lock, and the stored keys by keyId. The read is a statement
   * after the locks', so its snapshot sees what a transaction that held one of them committed; the two
   * go out together (one round trip).
   */
  async lockAndFind(em: EntityManager, keys: KeyRef[]): Promise<{ free: boolean[]; stored: Map<string, StoredKey> }> {
    const userIds = keys.map((k) => k.userId);
    const names = keys.map((k) => k.key);
    const [locked, found] = await queryRowsInOrder(em, [
      {
        text: `SELECT array_agg(${keyLockSql('r.user_id', 'r.key', '$3')} ORDER BY r.ord) AS free
                 FROM unnest($1::uuid[], $2::text[]) WITH ORDINALITY AS r(user_id, key, ord)`,
        params: [userIds, names, KEY_LOCK_SEED],
      },
      {
        text: `SELECT k.user_id AS "userId", k.key, ${STORED_KEY_COLUMNS}
                 FROM idempotency_keys k JOIN unnest($1::uuid[], $2::text[]) AS r(user_id, key) ON k.user_id = r.user_id AND k.key = r.key
                WHERE ${COMPLETED}`,
        params: [userIds, names],
      },
    ]);
    const [{ free }] = locked as { free: boolean[] }[];
    const stored = new Map((found as (StoredKeyRow & KeyRef)[]).map((r) => [keyId(r), toStoredKey(r)]));
    return { free, stored };
  }

  /** Records completed keys (over a left-over row that is not completed); answers how many were written. */
  async insertCompleted(em: EntityManager, done: CompletedKey[]): Promise<number> {
    const written = await queryRows(
      em,
      `INSERT INTO idempotency_keys (user_id, key, request_hash, status, response_status, response_body, locked_until, completed_at)
       SELECT user_id, key, request_hash, 'completed', response_status, response_body::jsonb, now(), now()
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::text[]) AS d(user_id, key, request_hash, response_status, response_body)
       ON CONFLICT (user_id, key) DO UPDATE
         SET request_hash = EXCLUDED.request_hash, status = 'completed', response_status = EXCLUDED.response_status,
             response_body = EXCLUDED.response_body, completed_at = now()
         WHERE idempotency_keys.status <> 'completed'
       RETURNING key`,
      [
        done.map((d) => d.userId),
        done.map((d) => d.key),
        done.map((d) => d.requestHash),
        done.map((d) => d.responseStatus),
        done.map((d) => JSON.stringify(d.responseBody ?? null)),
      ],
      { prepare: true },
    );
    return written.length;
  }
}

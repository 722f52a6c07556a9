import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { preparedRows } from '../../database/sql';
import { AppError } from '../errors';

export type IdempotencyClaim = { kind: 'claimed' } | { kind: 'replay'; status: number; body: unknown };

/** A crashed request's claim is taken over after this long, so a key is never stuck forever. */
const LOCK_SECONDS = 60;

/**
 * Idempotency keys stored in PostgreSQL, scoped per user. A request first claims its key; the
 * stored response is replayed for the same key and body. Services that move value also derive their
 * ledger reference from the key, so a request re-run after a crash cannot move value twice.
 */
@Injectable()
export class IdempotencyService {
  constructor(private readonly dataSource: DataSource) {}

  static hash(method: string, path: string, body: unknown): string {
    return createHash('sha256')
      .update(`${method} ${path}\n${canonicalJson(body ?? null)}`)
      .digest('hex');
  }

  async claim(userId: string, key: string, requestHash: string): Promise<IdempotencyClaim> {
    const inserted = await preparedRows(
      this.dataSource,
      `INSERT INTO idempotency_keys (user_id, key, request_hash, status, locked_until)
       VALUES ($1, $2, $3, 'in_progress', now() + make_interval(secs => $4))
       ON CONFLICT (user_id, key) DO NOTHING RETURNING key`,
      [userId, key, requestHash, LOCK_SECONDS],
    );
    if (inserted.length > 0) return { kind: 'claimed' };
    const rows = await preparedRows<{ request_hash: string; status: string; response_status: number | null; response_body: unknown }>(
      this.dataSource,
      'SELECT request_hash, status, response_status, response_body FROM idempotency_keys WHERE user_id = $1 AND key = $2',
      [userId, key],
    );
    const row = rows[0];
    if (!row) return this.claim(userId, key, requestHash); // released between our two statements
    if (row.request_hash !== requestHash) {
      throw new AppError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with a different request');
    }
    if (row.status === 'completed') return { kind: 'replay', status: row.response_status ?? 200, body: row.response_body };
    const takenOver = await preparedRows(
      this.dataSource,
      `UPDATE idempotency_keys SET locked_until = now() + make_interval(secs => $3)
       WHERE user_id = $1 AND key = $2 AND status = 'in_progress' AND locked_until < now() RETURNING key`,
      [userId, key, LOCK_SECONDS],
    );
    if (takenOver.length > 0) return { kind: 'claimed' };
    throw new AppError('IDEMPOTENCY_IN_PROGRESS', 'A request with this Idempotency-Key is still being processed');
  }

  async complete(userId: string, key: string, status: number, body: unknown): Promise<void> {
    await preparedRows(
      this.dataSource,
      `UPDATE idempotency_keys SET status = 'completed', response_status = $3, response_body = $4::jsonb, completed_at = now()
       WHERE user_id = $1 AND key = $2`,
      [userId, key, status, JSON.stringify(body ?? null)],
    );
  }

  /** The request failed before completing: free the key so a corrected request can use it. */
  async release(userId: string, key: string): Promise<void> {
    await preparedRows(this.dataSource, `DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND status = 'in_progress'`, [
      userId,
      key,
    ]);
  }
}

/** JSON with object keys sorted, so that key order does not change a request's hash. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

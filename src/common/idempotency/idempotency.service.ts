import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../../database/sql';
import { AppError } from '../errors';

export type IdempotencyClaim = { kind: 'claimed' } | { kind: 'replay'; status: number; body: unknown };

/** A request of an `@Idempotent({ inTransaction: true })` route, as its service sees it. */
export interface IdempotentRequest {
  userId: string;
  key: string;
  requestHash: string;
}

/** The stored first response of a request, to be sent again (with `Idempotent-Replayed: true`). */
export class IdempotentReplay {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {}
}

interface StoredKey {
  request_hash: string;
  status: string;
  response_status: number | null;
  response_body: unknown;
  stale: boolean;
}

const STORED_KEY_COLUMNS = 'k.request_hash, k.status, k.response_status, k.response_body, k.locked_until < now() AS stale';

const inProgress = () => new AppError('IDEMPOTENCY_IN_PROGRESS', 'A request with this Idempotency-Key is still being processed');
const keyReused = () => new AppError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with a different request');

/** What a stored key means for a request with `requestHash`: go ahead (undefined), a replay, or a refusal. */
function verdict(row: StoredKey | undefined, requestHash: string): undefined | IdempotentReplay | AppError {
  if (!row) return undefined;
  if (row.request_hash !== requestHash) return keyReused();
  if (row.status === 'completed') return new IdempotentReplay(row.response_status ?? 200, row.response_body);
  return row.stale ? undefined : inProgress();
}

/** Advisory lock namespace of in-transaction idempotency keys. */
export const KEY_LOCK_SEED = 731_000_002;

/** SQL trying the transaction-scoped advisory lock of (user, key): the same lock in every statement. */
const keyLock = (userId: string, key: string, seed: string) =>
  `pg_try_advisory_xact_lock(hashtextextended(${userId}::text || '/' || ${key}, ${seed}))`;

/** A crashed request's claim is taken over after this long, so a key is never stuck forever. */
const LOCK_SECONDS = 60;

/**
 * Idempotency keys stored in PostgreSQL, scoped per user. A request first claims its key; the
 * stored response is replayed for the same key and body. Services that move value also derive their
 * ledger reference from the key, so a request re-run after a crash cannot move value twice.
 */
@Injectable()
export class IdempotencyService {
  private readonly handling = new Set<string>();

  constructor(private readonly dataSource: DataSource) {}

  static hash(method: string, path: string, body: unknown): string {
    return createHash('sha256')
      .update(`${method} ${path}\n${canonicalJson(body ?? null)}`)
      .digest('hex');
  }

  async claim(userId: string, key: string, requestHash: string): Promise<IdempotencyClaim> {
    // Not while a transaction holds the key's lock: an in-transaction route (claimInTransaction) is
    // deciding a request with this key and records it only when it commits.
    const [claim] = await queryRows<{ free: boolean; inserted: boolean }>(
      this.dataSource,
      `WITH lock AS MATERIALIZED (SELECT ${keyLock('$1::uuid', '$2::text', '$5')} AS free),
       ins AS (
         INSERT INTO idempotency_keys (user_id, key, request_hash, status, locked_until)
         SELECT $1, $2, $3, 'in_progress', now() + make_interval(secs => $4) FROM lock WHERE lock.free
         ON CONFLICT (user_id, key) DO NOTHING RETURNING key)
       SELECT (SELECT free FROM lock) AS free, EXISTS (SELECT 1 FROM ins) AS inserted`,
      [userId, key, requestHash, LOCK_SECONDS, KEY_LOCK_SEED],
      { prepare: true },
    );
    if (!claim.free) throw inProgress();
    if (claim.inserted) return { kind: 'claimed' };
    const rows = await queryRows<{ request_hash: string; status: string; response_status: number | null; response_body: unknown }>(
      this.dataSource,
      'SELECT request_hash, status, response_status, response_body FROM idempotency_keys WHERE user_id = $1 AND key = $2',
      [userId, key],
      { prepare: true },
    );
    const row = rows[0];
    if (!row) return this.claim(userId, key, requestHash); // released between our two statements
    if (row.request_hash !== requestHash) {
      throw keyReused();
    }
    if (row.status === 'completed') return { kind: 'replay', status: row.response_status ?? 200, body: row.response_body };
    const takenOver = await queryRows(
      this.dataSource,
      `UPDATE idempotency_keys SET locked_until = now() + make_interval(secs => $3)
       WHERE user_id = $1 AND key = $2 AND status = 'in_progress' AND locked_until < now() RETURNING key`,
      [userId, key, LOCK_SECONDS],
      { prepare: true },
    );
    if (takenOver.length > 0) return { kind: 'claimed' };
    throw inProgress();
  }

  async complete(userId: string, key: string, status: number, body: unknown): Promise<void> {
    await queryRows(
      this.dataSource,
      `UPDATE idempotency_keys SET status = 'completed', response_status = $3, response_body = $4::jsonb, completed_at = now()
       WHERE user_id = $1 AND key = $2`,
      [userId, key, status, JSON.stringify(body ?? null)],
      { prepare: true },
    );
  }

  /**
   * In-transaction claims, for services that record the key in the same transaction as their effect
   * (nothing to clean up after a crash or an error: the key goes with the rollback). Per request:
   * undefined (go ahead), an IdempotentReplay, or the error to answer with. A key being processed
   * elsewhere (its advisory lock is taken, or a live claim of the other kind holds it) is
   * IDEMPOTENCY_IN_PROGRESS; the locks last until the transaction ends.
   */
  async claimInTransaction(em: EntityManager, requests: IdempotentRequest[]): Promise<(undefined | IdempotentReplay | AppError)[]> {
    if (!requests.length) return [];
    const [{ free }] = await queryRows<{ free: boolean[] }>(
      em,
      `SELECT array_agg(${keyLock('r.user_id', 'r.key', '$3')} ORDER BY r.ord) AS free
         FROM unnest($1::uuid[], $2::text[]) WITH ORDINALITY AS r(user_id, key, ord)`,
      [requests.map((r) => r.userId), requests.map((r) => r.key), KEY_LOCK_SEED],
      { prepare: true },
    );
    // A new statement, so a new snapshot: it sees what a transaction that held one of these locks committed.
    const rows = await queryRows<StoredKey & { user_id: string; key: string }>(
      em,
      `SELECT k.user_id, k.key, ${STORED_KEY_COLUMNS}
         FROM idempotency_keys k JOIN unnest($1::uuid[], $2::text[]) AS r(user_id, key) ON k.user_id = r.user_id AND k.key = r.key`,
      [requests.map((r) => r.userId), requests.map((r) => r.key)],
      { prepare: true },
    );
    const stored = new Map(rows.map((r) => [`${r.user_id}/${r.key}`, r]));
    const seen = new Map<string, string>();
    return requests.map((req, i) => {
      const id = `${req.userId}/${req.key}`;
      const sibling = seen.get(id);
      if (sibling !== undefined) return sibling === req.requestHash ? inProgress() : keyReused();
      seen.set(id, req.requestHash);
      return free[i] ? verdict(stored.get(id), req.requestHash) : inProgress();
    });
  }

  /**
   * Marks a request as being handled by this process until `release` is called; a second one with the
   * same key meanwhile is IDEMPOTENCY_IN_PROGRESS (it may not have reached its transaction's lock yet).
   */
  track(request: IdempotentRequest): { release(): void } {
    const id = `${request.userId}/${request.key}`;
    if (this.handling.has(id)) throw inProgress();
    this.handling.add(id);
    return { release: () => this.handling.delete(id) };
  }

  /**
   * What a stored key says about a request before it runs (no claim): a replay, a refusal, or
   * undefined when nothing stands in the way. Lets an in-transaction route answer in the contract's
   * order (a repeated request is replayed before any of its checks run).
   */
  async peek(request: IdempotentRequest): Promise<undefined | IdempotentReplay | AppError> {
    // The key's lock, tried in a statement of its own (released when it ends): taken means a
    // transaction is deciding a request with this key right now.
    const [row] = await queryRows<Partial<StoredKey> & { free: boolean }>(
      this.dataSource,
      `SELECT ${keyLock('$1::uuid', '$2::text', '$3')} AS free, ${STORED_KEY_COLUMNS}
         FROM (SELECT 1) one LEFT JOIN idempotency_keys k ON k.user_id = $1 AND k.key = $2`,
      [request.userId, request.key, KEY_LOCK_SEED],
      { prepare: true },
    );
    if (row.request_hash !== null && row.request_hash !== undefined) return verdict(row as StoredKey, request.requestHash);
    return row.free ? undefined : inProgress();
  }

  /** Records the responses of requests claimed with `claimInTransaction`, in the same transaction. */
  async completeInTransaction(em: EntityManager, done: (IdempotentRequest & { status: number; body: unknown })[]): Promise<void> {
    if (!done.length) return;
    const written = await queryRows(
      em,
      `INSERT INTO idempotency_keys (user_id, key, request_hash, status, response_status, response_body, locked_until, completed_at)
       SELECT user_id, key, request_hash, 'completed', response_status, response_body::jsonb, now(), now()
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::text[]) AS d(user_id, key, request_hash, response_status, response_body)
       ON CONFLICT (user_id, key) DO UPDATE
         SET status = 'completed', response_status = EXCLUDED.response_status, response_body = EXCLUDED.response_body, completed_at = now()
         WHERE idempotency_keys.status = 'in_progress' AND idempotency_keys.request_hash = EXCLUDED.request_hash
       RETURNING key`,
      [
        done.map((d) => d.userId),
        done.map((d) => d.key),
        done.map((d) => d.requestHash),
        done.map((d) => d.status),
        done.map((d) => JSON.stringify(d.body ?? null)),
      ],
      { prepare: true },
    );
    // A request of another route took one of these keys meanwhile (it claims without our lock): this
    // transaction must not complete under it.
    if (written.length !== done.length) throw inProgress();
  }

  /** The request failed before completing: free the key so a corrected request can use it. */
  async release(userId: string, key: string): Promise<void> {
    await queryRows(
      this.dataSource,
      `DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND status = 'in_progress'`,
      [userId, key],
      { prepare: true },
    );
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

import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { TransactionOptions, TransactionRunner } from '../../database/transaction-runner';
import { compareText } from '../compare';
import { AppError } from '../errors';
import { Outcome } from '../outcome';
import { IdempotencyErrors } from './idempotency.errors';
import { IdempotencyRepository, keyId, StoredKey } from './idempotency.repository';

/** A request of an `@Idempotent()` route, as its service sees it (`@IdempotentRequestOf()`). */
export interface IdempotentRequest {
  userId: string;
  key: string;
  requestHash: string;
  /** The route's success status (201 for a POST unless `@HttpCode` says otherwise), recorded with the response. */
  responseStatus: number;
}

/** The stored first response of a request, to be sent again (with `Idempotent-Replayed: true`). */
export class IdempotentReplay {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {}
}

/** What a key says about a request: go ahead (undefined), a replay, or the error to answer with. */
export type KeyVerdict = undefined | IdempotentReplay | AppError;

/** Longest ledger reference (the ledger's limit). */
const MAX_REFERENCE = 300;

function verdict(stored: StoredKey | undefined, requestHash: string): KeyVerdict {
  if (!stored) return undefined;
  if (stored.requestHash !== requestHash) return IdempotencyErrors.keyReused();
  return new IdempotentReplay(stored.responseStatus, stored.responseBody);
}

/**
 * Idempotency keys, scoped per user, claimed and completed inside the route's own transaction: the
 * key's advisory lock first (taken: IDEMPOTENCY_IN_PROGRESS), then the stored key (same request: its
 * first response is replayed; another request: IDEMPOTENCY_KEY_REUSED), and the response is recorded
 * in the same transaction as the effect. A request that fails or crashes leaves nothing behind: the
 * key goes with the rollback. Value-moving routes derive their ledger reference from the key
 * (`reference`), so the ledger refuses a second effect of one request as well.
 */
@Injectable()
export class IdempotencyService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly tx: TransactionRunner,
    private readonly keys: IdempotencyRepository,
  ) {}

  static hash(method: string, path: string, body: unknown): string {
    return createHash('sha256')
      .update(`${method} ${path}\n${canonicalJson(body ?? null)}`)
      .digest('hex');
  }

  /** The ledger reference of the entry a request makes: `kind:user:key` (the key hashed when that is too long). */
  static reference(kind: string, request: IdempotentRequest): string {
    const plain = `${kind}:${request.userId}:${request.key}`;
    if (plain.length <= MAX_REFERENCE) return plain;
    return `${kind}:${request.userId}:sha256:${createHash('sha256').update(request.key).digest('hex')}`;
  }

  /**
   * Runs `work` in a transaction of its own, the request's key claimed first and `work`'s result
   * recorded as the response before the commit; a repeated request gets its IdempotentReplay instead.
   */
  async run<T>(
    request: IdempotentRequest,
    work: (em: EntityManager) => Promise<T>,
    opts?: TransactionOptions,
  ): Promise<T | IdempotentReplay> {
    return this.tx.run(async (em) => {
      const [claimed] = await this.claim(em, [request]);
      if (claimed instanceof AppError) throw claimed;
      if (claimed) return claimed;
      const body = await work(em);
      await this.complete(em, [{ request, body }]);
      return body;
    }, opts);
  }

  /**
   * What a stored key says about a request before it runs, claiming nothing (read-only, outside any
   * transaction): lets a route answer a repeated request before its own checks, as the contract asks.
   * A key whose lock a transaction holds is being decided right now: IDEMPOTENCY_IN_PROGRESS.
   */
  async check(request: IdempotentRequest): Promise<KeyVerdict> {
    const { free, stored } = await this.keys.peek(this.dataSource, request);
    if (stored) return verdict(stored, request.requestHash);
    return free ? undefined : IdempotencyErrors.inProgress();
  }

  /**
   * Claims keys in the caller's transaction (a batch may claim many): per request, go ahead
   * (undefined), its replay, or the error to answer with. The locks last until the transaction ends;
   * two requests of one batch with the same key: the second is in progress (or a reuse).
   */
  async claim(em: EntityManager, requests: IdempotentRequest[]): Promise<KeyVerdict[]> {
    if (!requests.length) return [];
    const { free, stored } = await this.keys.lockAndFind(em, requests);
    const seen = new Map<string, string>();
    return requests.map((req, i) => {
      const id = keyId(req);
      const sibling = seen.get(id);
      if (sibling !== undefined) return sibling === req.requestHash ? IdempotencyErrors.inProgress() : IdempotencyErrors.keyReused();
      seen.set(id, req.requestHash);
      return free[i] ? verdict(stored.get(id), req.requestHash) : IdempotencyErrors.inProgress();
    });
  }

  /**
   * `claim` for a batch's units, the `outcomes` array its work function answers with: those of the
   * units already answered (a replay, or the error), and the indices of those `open` to decide.
   */
  async claimBatch<T>(
    em: EntityManager,
    requests: IdempotentRequest[],
  ): Promise<{ outcomes: Outcome<T | IdempotentReplay>[]; open: number[] }> {
    const outcomes: Outcome<T | IdempotentReplay>[] = new Array(requests.length);
    const claims = await this.claim(em, requests);
    claims.forEach((c, i) => {
      if (c) outcomes[i] = c instanceof IdempotentReplay ? { ok: c } : { error: c };
    });
    return { outcomes, open: requests.map((_, i) => i).filter((i) => !outcomes[i]) };
  }

  /** Records the responses of requests claimed with `claim`, in the same transaction as their effects. */
  async complete(em: EntityManager, done: { request: IdempotentRequest; body: unknown }[]): Promise<void> {
    if (!done.length) return;
    const written = await this.keys.insertCompleted(
      em,
      done.map(({ request, body }) => ({ ...request, responseBody: body })),
    );
    // Under the keys' locks nobody else completes them; should one be stored anyway, do not complete under it.
    if (written !== done.length) throw IdempotencyErrors.inProgress();
  }
}

/** JSON with object keys sorted, so that key order does not change a request's hash. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => compareText(a, b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

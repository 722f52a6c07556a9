import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Clock } from '../common/clock.service';
import { AppError } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { Outcome } from '../common/outcome';
import { BatchResult, GroupCommit } from '../database/group-commit';
import { queryRows } from '../database/sql';
import { TransactionRunner } from '../database/transaction-runner';
import { checkAmount, PreparedEntry, PreparedHold, prepareEntry, prepareHold, SYSTEM_OWNER } from './entry-input';
import { AccountInfo, LedgerAccounts } from './ledger-accounts';
import { LedgerBatcher } from './ledger.batcher';
import { LedgerErrors, mapLedgerDbError } from './ledger.errors';
import { AccountRef, Asset, HoldInput, PostedEntry, SystemAccountName, UserAccountName } from './ledger.types';
import { PostingEngine } from './posting.engine';
import { UUID_RE } from '../common/ids';

const EXPIRE_BATCH = 200;

interface HoldRow {
  id: string;
  kind: string;
  status: 'pending' | 'captured' | 'voided' | 'expired';
  amount: string;
  captured: string | null;
  capture_entry_id: string | null;
  content_hash: string;
  metadata: Record<string, unknown>;
  expires_at: Date;
  from_account_id: string;
  from_owner: string;
  from_name: string;
  to_owner: string;
  to_name: string;
  asset: Asset;
}

const HOLD_SELECT = `
  SELECT h.id, h.kind, h.status, h.amount::text AS amount, h.captured::text AS captured, h.capture_entry_id, h.content_hash,
         h.metadata, h.expires_at, h.from_account_id::text AS from_account_id,
         fa.owner_id AS from_owner, fa.name AS from_name, ta.owner_id AS to_owner, ta.name AS to_name, fa.asset
    FROM ledger_holds h
    JOIN ledger_accounts fa ON fa.id = h.from_account_id
    JOIN ledger_accounts ta ON ta.id = h.to_account_id`;

function refOf(owner: string, asset: Asset, name: string): AccountRef {
  return owner === SYSTEM_OWNER ? { system: name as SystemAccountName, asset } : { userId: owner, asset, name: name as UserAccountName };
}

interface CaptureRequest {
  holdId: string;
  amount?: bigint;
}

/** What a capture batch has decided so far about one hold. */
interface CaptureState {
  row: HoldRow;
  captured?: { amount: bigint; entryId: string };
}

function settle<T>(outcome: Outcome<T>): T {
  if ('error' in outcome) throw outcome.error;
  return outcome.ok;
}

/**
 * Two-phase transfers, like TigerBeetle's pending transfers: a hold reserves funds on the source
 * account (its `held` grows, so available = posted - held shrinks; the database refuses to reserve
 * more than is there), then a capture posts all or part of it (the rest is released), a void releases
 * it, and a periodic job expires what was left pending past its time. A hold is released exactly
 * once: the row only moves from pending to a final state, and a trigger keeps `held` in step.
 * Holds and captures made without a caller transaction are group-committed (LedgerBatcher); one code
 * path decides a batch of them, whether it holds one or hundreds.
 */
@Injectable()
export class LedgerHolds {
  private readonly holdBatches: GroupCommit<PreparedHold, { holdId: string }>;
  private readonly captureBatches: GroupCommit<CaptureRequest, PostedEntry>;

  constructor(
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly accounts: LedgerAccounts,
    private readonly engine: PostingEngine,
    batcher: LedgerBatcher,
  ) {
    this.holdBatches = batcher.group(
      (em, holds) => this.holdMany(em, holds),
      (h) => [h.reference],
    );
    this.captureBatches = batcher.group(
      (em, requests) => this.captureMany(em, requests),
      (r) => [String(r.holdId)],
    );
  }

  async hold(em: EntityManager | undefined, input: HoldInput): Promise<{ holdId: string }> {
    const h = prepareHold(input, this.clock.now());
    if (!em && this.config.ledger.batching) return this.holdBatches.submit(h);
    return this.tx.within(em, async (m) => settle((await this.holdMany(m, [h])).outcomes[0]));
  }

  async capture(em: EntityManager | undefined, holdId: string, amount?: bigint): Promise<PostedEntry> {
    const request = {
      holdId: typeof holdId === 'string' ? holdId.toLowerCase() : holdId,
      amount: amount === undefined ? undefined : checkAmount(amount, 'amount', 'positive'),
    };
    if (!em && this.config.ledger.batching) return this.captureBatches.submit(request);
    return this.tx.within(em, async (m) => settle((await this.captureMany(m, [request])).outcomes[0]));
  }

  /**
   * Decides and writes holds (the batcher never puts two with one reference in a batch): the sources'
   * balance rows are locked in key order first (so batches never wait on each other in a cycle), each
   * hold is checked against what its source has left after the holds before it, and the accepted ones
   * are inserted in one statement (a trigger reserves their funds, under the CHECK that `held` never
   * exceeds the balance).
   */
  private async holdMany(em: EntityManager, holds: PreparedHold[]): Promise<BatchResult<{ holdId: string }>> {
    const outcomes: Outcome<{ holdId: string }>[] = new Array(holds.length);
    const refs = new Map(holds.flatMap((h) => [[h.from.key, h.from] as const, [h.to.key, h.to] as const]));
    const accounts = await this.accounts.find(em, [...refs.values()]);
    // A source that may go negative is created on demand; any other must exist (it needs funds).
    const newSources = holds.filter((h) => h.from.allowNegative && !accounts.has(h.from.key)).map((h) => h.from);
    if (newSources.length) for (const [k, v] of await this.accounts.ensure(em, newSources)) accounts.set(k, v);
    await this.decide(em, holds, accounts, outcomes);
    return { outcomes, afterCommit: () => this.accounts.remember(accounts.values()) };
  }

  /** Decides holds with distinct references (see holdMany). */
  private async decide(
    em: EntityManager,
    holds: PreparedHold[],
    accounts: Map<string, AccountInfo>,
    outcomes: Outcome<{ holdId: string }>[],
  ): Promise<void> {
    const all = holds.map((_, i) => i);
    const answer = (i: number, row: { id: string; hash: string }) =>
      (outcomes[i] =
        row.hash === holds[i].contentHash ? { ok: { holdId: row.id } } : { error: LedgerErrors.referenceConflict(holds[i].reference) });
    const sourceIds = [...new Set(all.map((i) => accounts.get(holds[i].from.key)?.id).filter((id): id is string => id !== undefined))];
    const needs = new Map<string, bigint>();
    for (const h of holds) {
      const id = accounts.get(h.from.key)?.id;
      if (id !== undefined) needs.set(id, (needs.get(id) ?? 0n) + h.amount);
    }
    const { existing, funds: available } = await this.engine.lockFindAndRead(
      em,
      'ledger_holds',
      all.map((i) => holds[i].reference),
      sourceIds,
      { needs },
    );
    const pending: number[] = [];
    for (const i of all) {
      const h = holds[i];
      const row = existing.get(h.reference);
      if (row) answer(i, row);
      else if (!accounts.has(h.from.key)) outcomes[i] = { error: LedgerErrors.insufficientFunds(h.from.name, h.from.asset) };
      else pending.push(i);
    }
    const accepted = pending.filter((i) => {
      const from = accounts.get(holds[i].from.key)!;
      if (from.allowNegative) return true;
      const left = available.get(from.id) ?? 0n;
      if (left < holds[i].amount) {
        outcomes[i] = { error: LedgerErrors.insufficientFunds(from.name, from.asset) };
        return false;
      }
      available.set(from.id, left - holds[i].amount);
      return true;
    });
    if (!accepted.length) return;
    const newTargets = accepted.map((i) => holds[i].to).filter((r) => !accounts.has(r.key));
    if (newTargets.length) for (const [k, v] of await this.accounts.ensure(em, newTargets)) accounts.set(k, v);
    const ids = await this.insertHolds(
      em,
      accepted.map((i) => holds[i]),
      accounts,
    );
    for (const i of accepted) {
      const id = ids.get(holds[i].reference);
      if (id) outcomes[i] = { ok: { holdId: id } };
    }
    // Not inserted: a concurrent transaction wrote the reference after our lookup.
    const raced = accepted.filter((i) => !ids.has(holds[i].reference));
    if (!raced.length) return;
    const found = await this.engine.lockAndFind(
      em,
      'ledger_holds',
      raced.map((i) => holds[i].reference),
      [],
    );
    for (const i of raced) answer(i, found.get(holds[i].reference)!);
  }

  /**
   * Decides and writes captures: the holds are locked (by id), then their sources' balance rows (in
   * key order), each request is checked against its hold as earlier requests of the batch left it,
   * and the accepted captures close their holds and post their entries together.
   */
  private async captureMany(em: EntityManager, requests: CaptureRequest[]): Promise<BatchResult<PostedEntry>> {
    const ids = [...new Set(requests.map((r) => r.holdId).filter((id) => typeof id === 'string' && UUID_RE.test(id)))];
    const rows = ids.length
      ? await queryRows<HoldRow>(em, `${HOLD_SELECT} WHERE h.id = ANY($1::uuid[]) ORDER BY h.id FOR UPDATE OF h`, [ids], { prepare: true })
      : [];
    const states = new Map<string, CaptureState>(rows.map((row) => [row.id, { row }]));
    await this.engine.lock(em, [...new Set(rows.filter((r) => r.status === 'pending').map((r) => r.from_account_id))]);

    const now = this.clock.now();
    const entries: PreparedEntry[] = [];
    const entryOf = new Map<number, number>();
    const outcomes: Outcome<PostedEntry>[] = requests.map((req, i) => {
      const state = states.get(req.holdId);
      if (!state) return { error: LedgerErrors.holdNotFound() };
      const { row } = state;
      const total = BigInt(row.amount);
      const take = req.amount ?? total;
      const captured =
        state.captured ?? (row.status === 'captured' ? { amount: BigInt(row.captured!), entryId: row.capture_entry_id! } : undefined);
      if (captured) {
        if (take === captured.amount) return { ok: { entryId: captured.entryId, replayed: true } };
        return { error: LedgerErrors.holdState('captured', 'capture') };
      }
      const refused =
        this.refusal(row, 'capture') ??
        (take > total ? LedgerErrors.invalid(`must not exceed the held amount (${total})`, 'amount') : undefined);
      if (refused) return { error: refused };
      const entry = this.captureEntry(row, take, now);
      state.captured = { amount: take, entryId: entry.id };
      entryOf.set(i, entries.length);
      entries.push(entry);
      return { ok: { entryId: entry.id, replayed: false } };
    });
    if (!entries.length) return { outcomes };

    const closing = [...states.values()].filter((s) => s.captured && s.row.status === 'pending');
    const { outcomes: written } = await this.engine.apply(em, entries, {
      funded: true,
      beforeWrite: (w) =>
        queryRows(
          w,
          `UPDATE ledger_holds h SET status = 'captured', closed_at = $2, captured = u.captured, capture_entry_id = u.entry_id
             FROM unnest($1::uuid[], $3::bigint[], $4::uuid[]) AS u(id, captured, entry_id) WHERE h.id = u.id`,
          [closing.map((s) => s.row.id), now, closing.map((s) => s.captured!.amount.toString()), closing.map((s) => s.captured!.entryId)],
          { prepare: true },
        ).then(() => undefined),
    });
    for (const [i, e] of entryOf) outcomes[i] = written[e];
    return { outcomes };
  }

  private captureEntry(hold: HoldRow, take: bigint, now: Date): PreparedEntry {
    return prepareEntry(
      {
        kind: hold.kind,
        reference: `hold:${hold.id}:capture`,
        postings: [
          { account: refOf(hold.from_owner, hold.asset, hold.from_name), amount: -take },
          { account: refOf(hold.to_owner, hold.asset, hold.to_name), amount: take },
        ],
        metadata: { ...hold.metadata, holdId: hold.id, held: BigInt(hold.amount).toString() },
      },
      now,
    );
  }

  async void(em: EntityManager | undefined, holdId: string): Promise<void> {
    await this.tx.within(em, async (m) => {
      const hold = await this.lockHold(m, holdId);
      if (hold.status === 'voided' || hold.status === 'expired') return;
      if (hold.status === 'captured') throw LedgerErrors.holdState('captured', 'void');
      // (the release locks one balance row only, so no lock order to keep)
      await this.close(m, [hold.id], 'voided', this.clock.now());
    });
  }

  /** Expires the holds still pending past their expiry (business clock), a batch per transaction. */
  async expire(now: Date): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.tx.run(async (em) => {
        const due = await queryRows<{ id: string; from_account_id: string }>(
          em,
          `SELECT id, from_account_id::text AS from_account_id FROM ledger_holds
            WHERE status = 'pending' AND expires_at <= $1
            ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
          [now, EXPIRE_BATCH],
          { prepare: true },
        );
        if (!due.length) return 0;
        await this.engine.lock(em, [...new Set(due.map((d) => d.from_account_id))]);
        await this.close(
          em,
          due.map((d) => d.id),
          'expired',
          now,
        );
        return due.length;
      });
      total += n;
      if (n < EXPIRE_BATCH) return total;
    }
  }

  /** Inserts holds (in reference order) and answers the id of each one written, by reference. */
  private async insertHolds(em: EntityManager, holds: PreparedHold[], accounts: Map<string, AccountInfo>): Promise<Map<string, string>> {
    const sorted = [...holds].sort((a, b) => (a.reference < b.reference ? -1 : a.reference > b.reference ? 1 : 0));
    const col = <T>(f: (h: PreparedHold) => T) => sorted.map(f);
    try {
      const rows = await queryRows<{ id: string; reference: string }>(
        em,
        `INSERT INTO ledger_holds (reference, kind, from_account_id, to_account_id, amount, metadata, content_hash, created_at, expires_at)
         SELECT reference, kind, from_id, to_id, amount, metadata::jsonb, content_hash, created_at, expires_at
           FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[], $7::text[], $8::timestamptz[], $9::timestamptz[])
                WITH ORDINALITY AS t(reference, kind, from_id, to_id, amount, metadata, content_hash, created_at, expires_at, ord)
          ORDER BY ord
         ON CONFLICT (reference) DO NOTHING RETURNING id, reference`,
        [
          col((h) => h.reference),
          col((h) => h.kind),
          col((h) => accounts.get(h.from.key)!.id),
          col((h) => accounts.get(h.to.key)!.id),
          col((h) => h.amount.toString()),
          col((h) => h.metadataJson),
          col((h) => h.contentHash),
          col((h) => h.createdAt),
          col((h) => h.expiresAt),
        ],
        { prepare: true },
      );
      return new Map(rows.map((r) => [r.reference, r.id]));
    } catch (err) {
      throw mapLedgerDbError(err);
    }
  }

  private async lockHold(em: EntityManager, holdId: string): Promise<HoldRow> {
    if (typeof holdId !== 'string' || !UUID_RE.test(holdId)) throw LedgerErrors.holdNotFound();
    const rows = await queryRows<HoldRow>(em, `${HOLD_SELECT} WHERE h.id = $1 FOR UPDATE OF h`, [holdId], { prepare: true });
    if (!rows.length) throw LedgerErrors.holdNotFound();
    return rows[0];
  }

  /** Why a hold cannot be captured (or otherwise acted on) now, if it cannot. */
  private refusal(hold: HoldRow, action: string): AppError | undefined {
    if (hold.status !== 'pending') return LedgerErrors.holdState(hold.status, action);
    if (hold.expires_at.getTime() <= this.clock.nowMs()) return LedgerErrors.holdState('expired', action);
    return undefined;
  }

  /** Moves holds to a final state; the trigger releases their reservation. */
  private async close(
    em: EntityManager,
    ids: string[],
    status: 'captured' | 'voided' | 'expired',
    now: Date,
    capture?: { captured: bigint; entryId: string },
  ): Promise<void> {
    await queryRows(
      em,
      `UPDATE ledger_holds SET status = $2, closed_at = $3, captured = $4, capture_entry_id = $5 WHERE id = ANY($1::uuid[])`,
      [ids, status, now, capture?.captured.toString() ?? null, capture?.entryId ?? null],
      { prepare: true },
    );
  }
}

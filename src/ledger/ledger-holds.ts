import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Clock } from '../common/clock.service';
import { TransactionRunner } from '../database/transaction-runner';
import { preparedRows } from '../database/sql';
import { checkAmount, PreparedHold, prepareEntry, prepareHold, ResolvedRef, SYSTEM_OWNER } from './entry-input';
import { AccountInfo, LedgerAccounts } from './ledger-accounts';
import { LedgerErrors, mapLedgerDbError } from './ledger.errors';
import { AccountRef, Asset, HoldInput, PostedEntry, SystemAccountName, UserAccountName } from './ledger.types';
import { PostingEngine } from './posting.engine';
import { UUID_RE } from './uuid7';

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

/**
 * Two-phase transfers, like TigerBeetle's pending transfers: a hold reserves funds on the source
 * account (its `held` grows, so available = posted - held shrinks; the database refuses to reserve
 * more than is there), then a capture posts all or part of it (the rest is released), a void releases
 * it, and a periodic job expires what was left pending past its time. A hold is released exactly
 * once: the row only moves from pending to a final state, and a trigger keeps `held` in step.
 */
@Injectable()
export class LedgerHolds {
  constructor(
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    private readonly accounts: LedgerAccounts,
    private readonly engine: PostingEngine,
  ) {}

  async hold(em: EntityManager | undefined, input: HoldInput): Promise<{ holdId: string }> {
    const h = prepareHold(input, this.clock.now());
    return this.tx.within(em, async (m) => {
      const from = await this.source(m, h.from);
      const existing = await this.byReference(m, h, from?.id);
      if (existing) return existing;
      if (!from) throw LedgerErrors.insufficientFunds(h.from.name, h.from.asset);
      const funds = await this.engine.readFunds(m, [from.id]);
      if (!from.allowNegative && (funds.get(from.id) ?? 0n) < h.amount) throw LedgerErrors.insufficientFunds(from.name, from.asset);
      const to = (await this.accounts.find(m, [h.to])).get(h.to.key) ?? (await this.accounts.ensure(m, [h.to])).get(h.to.key)!;
      try {
        const rows = await preparedRows<{ id: string }>(
          m,
          `INSERT INTO ledger_holds (reference, kind, from_account_id, to_account_id, amount, metadata, content_hash, created_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9)
           ON CONFLICT (reference) DO NOTHING RETURNING id`,
          [h.reference, h.kind, from.id, to.id, h.amount.toString(), h.metadataJson, h.contentHash, h.createdAt, h.expiresAt],
        );
        if (rows.length) return { holdId: rows[0].id };
      } catch (err) {
        throw mapLedgerDbError(err);
      }
      // A concurrent request with the same reference got there first.
      return (await this.byReference(m, h))!;
    });
  }

  async capture(em: EntityManager | undefined, holdId: string, amount?: bigint): Promise<PostedEntry> {
    const wanted = amount === undefined ? undefined : checkAmount(amount, 'amount', 'positive');
    return this.tx.within(em, async (m) => {
      const hold = await this.lockHold(m, holdId);
      const total = BigInt(hold.amount);
      const take = wanted ?? total;
      if (hold.status === 'captured') {
        if (take === BigInt(hold.captured!)) return { entryId: hold.capture_entry_id!, replayed: true };
        throw LedgerErrors.holdState('captured', 'capture');
      }
      this.assertPending(hold, 'capture');
      if (take > total) throw LedgerErrors.invalid(`must not exceed the held amount (${total})`, 'amount');
      const now = this.clock.now();
      const from = refOf(hold.from_owner, hold.asset, hold.from_name);
      const entry = prepareEntry(
        {
          kind: hold.kind,
          reference: `hold:${hold.id}:capture`,
          postings: [
            { account: from, amount: -take },
            { account: refOf(hold.to_owner, hold.asset, hold.to_name), amount: take },
          ],
          metadata: { ...hold.metadata, holdId: hold.id, held: total.toString() },
        },
        now,
      );
      const { outcomes } = await this.engine.apply(m, [entry], {
        funded: true,
        beforeWrite: (w) => this.close(w, [hold.id], 'captured', now, { captured: take, entryId: entry.id }),
      });
      const outcome = outcomes[0];
      if ('error' in outcome) throw outcome.error;
      return outcome.ok;
    });
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
        const due = await preparedRows<{ id: string; from_account_id: string }>(
          em,
          `SELECT id, from_account_id::text AS from_account_id FROM ledger_holds
            WHERE status = 'pending' AND expires_at <= $1
            ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
          [now, EXPIRE_BATCH],
        );
        if (!due.length) return 0;
        await this.engine.lockAndRead(em, [...new Set(due.map((d) => d.from_account_id))]);
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

  /** The hold already holding this reference (same terms, or a CONFLICT); locks the source's balance row too, when given. */
  private async byReference(em: EntityManager, h: PreparedHold, lockAccountId?: string): Promise<{ holdId: string } | undefined> {
    const [row] = await preparedRows<{ id: string | null; content_hash: string | null }>(
      em,
      `WITH locked AS (SELECT b.account_id FROM ledger_balances b WHERE b.account_id = $2 FOR NO KEY UPDATE), n AS (SELECT count(*) FROM locked)
       SELECT h.id, h.content_hash FROM n LEFT JOIN ledger_holds h ON h.reference = $1`,
      [h.reference, lockAccountId ?? null],
    );
    if (!row?.id) return undefined;
    if (row.content_hash !== h.contentHash) throw LedgerErrors.referenceConflict(h.reference);
    return { holdId: row.id };
  }

  /** The source account; one that may go negative is created on demand, any other must exist (it needs funds). */
  private async source(em: EntityManager, ref: ResolvedRef): Promise<AccountInfo | undefined> {
    const known = (await this.accounts.find(em, [ref])).get(ref.key);
    if (known || !ref.allowNegative) return known;
    return (await this.accounts.ensure(em, [ref])).get(ref.key);
  }

  private async lockHold(em: EntityManager, holdId: string): Promise<HoldRow> {
    if (typeof holdId !== 'string' || !UUID_RE.test(holdId)) throw LedgerErrors.holdNotFound();
    const rows = await preparedRows<HoldRow>(em, `${HOLD_SELECT} WHERE h.id = $1 FOR UPDATE OF h`, [holdId]);
    if (!rows.length) throw LedgerErrors.holdNotFound();
    return rows[0];
  }

  private assertPending(hold: HoldRow, action: string): void {
    if (hold.status !== 'pending') throw LedgerErrors.holdState(hold.status, action);
    if (hold.expires_at.getTime() <= this.clock.nowMs()) throw LedgerErrors.holdState('expired', action);
  }

  /** Moves holds to a final state; the trigger releases their reservation. */
  private async close(
    em: EntityManager,
    ids: string[],
    status: 'captured' | 'voided' | 'expired',
    now: Date,
    capture?: { captured: bigint; entryId: string },
  ): Promise<void> {
    await preparedRows(
      em,
      `UPDATE ledger_holds SET status = $2, closed_at = $3, captured = $4, capture_entry_id = $5 WHERE id = ANY($1::uuid[])`,
      [ids, status, now, capture?.captured.toString() ?? null, capture?.entryId ?? null],
    );
  }
}

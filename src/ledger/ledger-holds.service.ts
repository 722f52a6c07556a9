import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Clock } from '../common/clock.service';
import { isUuid } from '../common/ids';
import { TransactionRunner } from '../database/transaction-runner';
import { checkAmount, PreparedEntry, PreparedHold, prepareEntry, prepareHold } from './entry-input';
import { holdMachine, HoldStatus } from './hold-state';
import { LedgerAccountsService } from './ledger-accounts.service';
import { ExistingRef } from './ledger-entries.repository';
import { Hold, LedgerHoldsRepository } from './ledger-holds.repository';
import { LedgerErrors, mapLedgerDbError } from './ledger.errors';
import { HoldInput, PostedEntry } from './ledger.types';
import { PostingEngineService } from './posting-engine.service';

const EXPIRE_BATCH = 200;

/**
 * Two-phase transfers, like TigerBeetle's pending transfers, in the caller's transaction: a hold
 * reserves funds on the source account (its `held` grows, so available = posted - held shrinks; the
 * database refuses to reserve more than is there), then a capture posts all or part of it (the rest is
 * released), a void releases it, and a periodic job expires what was left pending past its time. A
 * hold is released exactly once: it only moves from pending to a final state (holdMachine; a trigger
 * guards it too), and a trigger keeps `held` in step.
 */
@Injectable()
export class LedgerHoldsService {
  constructor(
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    private readonly accounts: LedgerAccountsService,
    private readonly engine: PostingEngineService,
    private readonly holds: LedgerHoldsRepository,
  ) {}

  /**
   * Reserves the funds: the source's balance row is locked first, the hold is checked against what it
   * has left, and inserted (a trigger reserves its funds, under the CHECK that `held` never exceeds the
   * balance). The same reference with the same terms answers the first hold; other terms are a CONFLICT.
   */
  async hold(em: EntityManager, input: HoldInput): Promise<{ holdId: string }> {
    const h = prepareHold(input, this.clock.now());
    const accounts = await this.accounts.find(em, [h.from, h.to]);
    // A source that may go negative is created on demand; any other must exist (it needs funds).
    if (h.from.allowNegative && !accounts.has(h.from.key))
      for (const [k, v] of await this.accounts.ensure(em, [h.from])) accounts.set(k, v);
    const from = accounts.get(h.from.key);
    const { existing, funds } = await this.engine.lockFindAndReadFunds(
      em,
      'holds',
      [h.reference],
      from ? [from.id] : [],
      from ? new Map([[from.id, h.amount]]) : undefined,
    );
    const found = existing.get(h.reference);
    if (found) return answer(h, found);
    if (!from || (!from.allowNegative && (funds.get(from.id) ?? 0n) < h.amount))
      throw LedgerErrors.insufficientFunds(h.from.name, h.from.asset);
    if (!accounts.has(h.to.key)) for (const [k, v] of await this.accounts.ensure(em, [h.to])) accounts.set(k, v);
    let id: string | undefined;
    try {
      id = await this.holds.insert(em, h, from.id, accounts.get(h.to.key)!.id);
    } catch (err) {
      throw mapLedgerDbError(err);
    }
    if (id) return { holdId: id };
    // Not inserted: a concurrent transaction wrote the reference after our lookup.
    return answer(h, (await this.engine.findByReferences(em, 'holds', [h.reference])).get(h.reference)!);
  }

  /**
   * Posts all of a pending hold or part of it (the rest is released) as one entry, referenced
   * `hold:<id>:capture`. Capturing a captured hold again with the same amount replays that entry.
   */
  async capture(em: EntityManager, holdId: string, amount?: bigint): Promise<PostedEntry> {
    const take = amount === undefined ? undefined : checkAmount(amount, 'amount', 'positive');
    const hold = await this.lockHold(em, holdId);
    if (hold.status === 'pending') await this.engine.lockPayers(em, [hold.fromAccountId]);
    const taken = take ?? hold.amount;
    if (hold.captured && taken === hold.captured.amount) return { entryId: hold.captured.entryId, replayed: true };
    holdMachine.next(this.effectiveStatus(hold), 'capture');
    if (taken > hold.amount) throw LedgerErrors.invalid(`must not exceed the held amount (${hold.amount})`, 'amount');
    const now = this.clock.now();
    const entry = captureEntry(hold, taken, now);
    const [outcome] = await this.engine.apply(em, [entry], {
      funded: true,
      beforeWrite: (w) => this.holds.markCaptured(w, hold.id, taken, entry.id, now),
    });
    if ('error' in outcome) throw outcome.error;
    return outcome.ok;
  }

  /** Releases a pending hold; one already captured, voided or expired is INVALID_STATE. */
  async void(em: EntityManager, holdId: string): Promise<void> {
    const hold = await this.lockHold(em, holdId);
    const status = holdMachine.next(hold.status, 'void');
    // (the release locks one balance row only, so no lock order to keep)
    await this.holds.close(em, [hold.id], status, this.clock.now());
  }

  /** Expires the holds still pending past their expiry (business clock), a batch per transaction. */
  async expire(now: Date): Promise<number> {
    const status = holdMachine.next('pending', 'expire');
    let total = 0;
    for (;;) {
      const n = await this.tx.run(async (em) => {
        const due = await this.holds.lockExpired(em, now, EXPIRE_BATCH);
        if (!due.length) return 0;
        await this.engine.lockPayers(em, [...new Set(due.map((d) => d.from_account_id))]);
        await this.holds.close(
          em,
          due.map((d) => d.id),
          status,
          now,
        );
        return due.length;
      });
      total += n;
      if (n < EXPIRE_BATCH) return total;
    }
  }

  private async lockHold(em: EntityManager, holdId: string): Promise<Hold> {
    const hold = isUuid(holdId) ? await this.holds.lock(em, holdId.toLowerCase()) : undefined;
    if (!hold) throw LedgerErrors.holdNotFound();
    return hold;
  }

  /** A pending hold past its expiry counts as expired (the job may not have closed it yet). */
  private effectiveStatus(hold: Hold): HoldStatus {
    return hold.status === 'pending' && hold.expiresAt.getTime() <= this.clock.nowMs() ? 'expired' : hold.status;
  }
}

/** The first hold with this reference: the same terms answer it, others are a conflict. */
function answer(h: PreparedHold, found: ExistingRef): { holdId: string } {
  if (found.hash !== h.contentHash) throw LedgerErrors.referenceConflict(h.reference);
  return { holdId: found.id };
}

function captureEntry(hold: Hold, take: bigint, now: Date): PreparedEntry {
  return prepareEntry(
    {
      kind: hold.kind,
      reference: `hold:${hold.id}:capture`,
      postings: [
        { account: hold.from, amount: -take },
        { account: hold.to, amount: take },
      ],
      metadata: { ...hold.metadata, holdId: hold.id, held: hold.amount.toString() },
    },
    now,
  );
}

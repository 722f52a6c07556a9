import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { TransactionRunner } from '../database/transaction-runner';
import { chainHash, GENESIS_HASH } from './ledger-chain';
import { LedgerChainRepository, SealInsert } from './ledger-chain.repository';

const SEAL_BATCH = 2000;
const SETTLE_POLL_MS = 20;
/** Advisory lock key: one sealer at a time across every server process. */
const SEAL_LOCK = 731_000_001;

/**
 * Chains entries into a tamper-evident hash chain, in the background so that writers never wait
 * for each other on it. Order: by writing transaction id, then entry id, but only for transactions
 * that are over (their xid is below the oldest xid still running), so no entry can later appear
 * before one already sealed; among finished transactions this follows the order they began writing,
 * which is as close to commit order as PostgreSQL lets a reader know without commit timestamps.
 */
@Injectable()
export class LedgerSealerService {
  constructor(
    private readonly tx: TransactionRunner,
    private readonly chain: LedgerChainRepository,
  ) {}

  /**
   * Seals every entry committed before the call; returns how many were sealed (0 if another sealer
   * runs). An entry is only sealed once every older transaction is over (anywhere on the server),
   * so this waits up to `settleMs` for those; what is still held back is left for the next run.
   */
  async sealPending(settleMs = 2000): Promise<number> {
    await this.settle(settleMs);
    let total = 0;
    for (;;) {
      const n = await this.tx.run((em) => this.sealBatch(em));
      total += Math.max(n, 0);
      if (n < SEAL_BATCH) return total;
    }
  }

  private async settle(settleMs: number): Promise<void> {
    const target = await this.chain.newestEntryXid(this.tx.manager);
    if (target === null) return;
    for (let waited = 0; ; waited += SETTLE_POLL_MS) {
      if ((await this.chain.isOver(this.tx.manager, target)) || waited >= settleMs) return;
      await new Promise((r) => setTimeout(r, SETTLE_POLL_MS));
    }
  }

  private async sealBatch(em: EntityManager): Promise<number> {
    if (!(await this.chain.tryLock(em, SEAL_LOCK))) return -1;
    const horizon = await this.chain.horizon(em);
    const last = await this.chain.lastSeal(em);
    const next = await this.chain.unsealed(em, last, horizon, SEAL_BATCH);
    if (!next.length) return 0;
    const entries = await this.chain.chainEntries(
      em,
      next.map((n) => n.id),
    );
    let prev: Buffer = last?.hash ?? GENESIS_HASH;
    let seq = last ? BigInt(last.seq) : 0n;
    const seals: SealInsert[] = [];
    for (const n of next) {
      const hash = chainHash(prev, entries.get(n.id)!);
      seq += 1n;
      seals.push({ seq: seq.toString(), entryId: n.id, entryXid: n.xid, prevHash: prev, hash });
      prev = hash;
    }
    await this.chain.insertSeals(em, seals);
    return next.length;
  }
}

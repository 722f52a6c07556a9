import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { TransactionRunner } from '../database/transaction-runner';
import { queryRows } from '../database/sql';
import { chainHash, GENESIS_HASH, loadChainEntries } from './ledger-chain';

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
export class LedgerSealer {
  constructor(private readonly tx: TransactionRunner) {}

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
    const [{ target }] = await queryRows<{ target: string | null }>(this.tx.manager, 'SELECT max(xid)::text AS target FROM ledger_entries');
    if (target === null) return;
    for (let waited = 0; ; waited += SETTLE_POLL_MS) {
      const [{ over }] = await queryRows<{ over: boolean }>(
        this.tx.manager,
        'SELECT pg_snapshot_xmin(pg_current_snapshot()) > $1::xid8 AS over',
        [target],
      );
      if (over || waited >= settleMs) return;
      await new Promise((r) => setTimeout(r, SETTLE_POLL_MS));
    }
  }

  private async sealBatch(em: EntityManager): Promise<number> {
    const [{ locked }] = await queryRows<{ locked: boolean }>(em, 'SELECT pg_try_advisory_xact_lock($1) AS locked', [SEAL_LOCK]);
    if (!locked) return -1;
    const [{ horizon }] = await queryRows<{ horizon: string }>(em, 'SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS horizon');
    const [last] = await queryRows<{ seq: string; entry_xid: string; entry_id: string; hash: Buffer }>(
      em,
      'SELECT s.seq::text AS seq, s.entry_xid::text AS entry_xid, s.entry_id, s.hash FROM ledger_seals s ORDER BY s.seq DESC LIMIT 1',
    );
    const next = await queryRows<{ id: string; xid: string }>(
      em,
      `SELECT e.id, e.xid::text AS xid FROM ledger_entries e
        WHERE ($1::xid8 IS NULL OR (e.xid, e.id) > ($1::xid8, $2::uuid)) AND e.xid < $3::xid8
        ORDER BY e.xid, e.id LIMIT $4`,
      [last?.entry_xid ?? null, last?.entry_id ?? null, horizon, SEAL_BATCH],
    );
    if (!next.length) return 0;
    const entries = await loadChainEntries(
      em,
      next.map((n) => n.id),
    );
    let prev: Buffer = last?.hash ?? GENESIS_HASH;
    let seq = last ? BigInt(last.seq) : 0n;
    const seqs: string[] = [];
    const prevs: Buffer[] = [];
    const hashes: Buffer[] = [];
    for (const n of next) {
      const hash = chainHash(prev, entries.get(n.id)!);
      seq += 1n;
      seqs.push(seq.toString());
      prevs.push(prev);
      hashes.push(hash);
      prev = hash;
    }
    await em.query(
      `INSERT INTO ledger_seals (seq, entry_id, entry_xid, prev_hash, hash)
       SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::xid8[], $4::bytea[], $5::bytea[])`,
      [seqs, next.map((n) => n.id), next.map((n) => n.xid), prevs, hashes],
    );
    return next.length;
  }
}

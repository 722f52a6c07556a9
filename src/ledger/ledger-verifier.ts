import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { TransactionRunner } from '../database/transaction-runner';
import { queryRows } from '../database/sql';
import { chainHash, GENESIS_HASH, loadChainEntries } from './ledger-chain';
import { LedgerSealer } from './ledger-sealer';
import { Asset, ASSETS, AssetReport, VerifyProblem, VerifyReport } from './ledger.types';

const PAGE = 2000;
const MAX_PROBLEMS = 100;

/**
 * Recomputes the ledger from its postings and checks it against itself: every account's balance
 * (its row plus its pending credits) against the sum of its postings, reservations against pending holds, no balance below zero where
 * that is not allowed, every entry balanced per asset, every asset summing to zero, and the hash chain
 * from the first seal to the last. Reads run in one read-only REPEATABLE READ snapshot, so the
 * report is consistent while writers carry on.
 */
@Injectable()
export class LedgerVerifier {
  constructor(
    private readonly tx: TransactionRunner,
    private readonly sealer: LedgerSealer,
  ) {}

  async verify(): Promise<VerifyReport> {
    await this.sealer.sealPending();
    return this.tx.run(
      async (em) => {
        await em.query('SET TRANSACTION READ ONLY');
        const problems: VerifyProblem[] = [];
        const report = (code: string, detail: string) => {
          if (problems.length < MAX_PROBLEMS) problems.push({ code, detail });
        };
        const accounts = await this.checkAccounts(em, report);
        const { entries, assets } = await this.checkEntriesAndAssets(em, report);
        const chain = await this.checkChain(em, report);
        return {
          ok: problems.length === 0,
          entries,
          sealed: chain.sealed,
          unsealed: entries - chain.sealed,
          chainOk: chain.ok,
          accounts,
          assets,
          problems,
        };
      },
      { isolation: 'REPEATABLE READ' },
    );
  }

  private async checkAccounts(em: EntityManager, report: (code: string, detail: string) => void): Promise<number> {
    const [{ count }] = await queryRows<{ count: string }>(em, 'SELECT count(*)::text AS count FROM ledger_accounts');
    const bad = await queryRows<{
      id: string;
      label: string;
      balance: string | null;
      posted: string;
      held: string;
      pending: string;
      negative: boolean;
    }>(
      em,
      `SELECT a.id::text AS id, a.owner_id || '/' || a.asset || '/' || a.name AS label,
              (b.balance + coalesce(c.total, 0))::text AS balance, coalesce(p.total, 0)::text AS posted,
              coalesce(b.held, 0)::text AS held, coalesce(h.total, 0)::text AS pending,
              (NOT a.allow_negative AND (b.balance - b.held < 0 OR coalesce(c.debits, false))) OR b.held < 0 AS negative
         FROM ledger_accounts a
         LEFT JOIN ledger_balances b ON b.account_id = a.id
         LEFT JOIN (SELECT account_id, sum(amount) AS total, bool_or(amount < 0) AS debits FROM ledger_pending_credits GROUP BY account_id) c
                ON c.account_id = a.id
         LEFT JOIN (SELECT account_id, sum(amount) AS total FROM ledger_postings GROUP BY account_id) p ON p.account_id = a.id
         LEFT JOIN (SELECT from_account_id, sum(amount) AS total FROM ledger_holds WHERE status = 'pending' GROUP BY from_account_id) h
                ON h.from_account_id = a.id
        WHERE b.account_id IS NULL OR b.balance + coalesce(c.total, 0) <> coalesce(p.total, 0) OR b.held <> coalesce(h.total, 0)
           OR (NOT a.allow_negative AND (b.balance - b.held < 0 OR coalesce(c.debits, false))) OR b.held < 0
        ORDER BY a.id LIMIT ${MAX_PROBLEMS}`,
    );
    for (const r of bad) {
      if (r.balance === null) {
        report('BALANCE_ROWS', `account ${r.id} (${r.label}) has no balance row`);
        continue;
      }
      if (r.balance !== r.posted)
        report('BALANCE_MISMATCH', `account ${r.id} (${r.label}): balance ${r.balance}, postings sum to ${r.posted}`);
      if (r.held !== r.pending) report('HELD_MISMATCH', `account ${r.id} (${r.label}): held ${r.held}, pending holds sum to ${r.pending}`);
      if (r.negative) report('NEGATIVE_BALANCE', `account ${r.id} (${r.label}) is below zero`);
    }
    return Number(count);
  }

  private async checkEntriesAndAssets(
    em: EntityManager,
    report: (code: string, detail: string) => void,
  ): Promise<{ entries: number; assets: Record<Asset, AssetReport> }> {
    const [{ count }] = await queryRows<{ count: string }>(em, 'SELECT count(*)::text AS count FROM ledger_entries');
    const unbalanced = await queryRows<{ id: string; legs: string }>(
      em,
      `SELECT e.id, coalesce(sum(x.legs), 0)::text AS legs
         FROM ledger_entries e
         LEFT JOIN (SELECT p.entry_id, a.asset, count(*) AS legs, sum(p.amount) AS total
                      FROM ledger_postings p JOIN ledger_accounts a ON a.id = p.account_id GROUP BY p.entry_id, a.asset) x
                ON x.entry_id = e.id
        GROUP BY e.id
       HAVING coalesce(sum(x.legs), 0) < 2 OR coalesce(bool_or(x.total <> 0), false)
        LIMIT ${MAX_PROBLEMS}`,
    );
    for (const u of unbalanced) report('UNBALANCED_ENTRY', `entry ${u.id} (${u.legs} postings) does not balance per asset`);

    const rows = await queryRows<{ asset: Asset; postings: string; balances: string; minted: string; burned: string; issuance: string }>(
      em,
      `SELECT a.asset,
              coalesce(sum(p.total), 0)::text AS postings,
              coalesce(sum(b.balance), 0)::text AS balances,
              coalesce(sum(p.minted) FILTER (WHERE a.name = 'issuance'), 0)::text AS minted,
              coalesce(sum(b.balance) FILTER (WHERE a.name = 'burn'), 0)::text AS burned,
              coalesce(sum(b.balance) FILTER (WHERE a.name = 'issuance'), 0)::text AS issuance
         FROM ledger_accounts a
         LEFT JOIN (SELECT account_id, sum(amount) AS total, -sum(amount) FILTER (WHERE amount < 0) AS minted
                      FROM ledger_postings GROUP BY account_id) p ON p.account_id = a.id
         LEFT JOIN (SELECT x.account_id, x.balance + coalesce((SELECT sum(c.amount) FROM ledger_pending_credits c WHERE c.account_id = x.account_id), 0) AS balance
                      FROM ledger_balances x) b ON b.account_id = a.id
        GROUP BY a.asset`,
    );
    const assets = Object.fromEntries(ASSETS.map((a) => [a, { sum: 0n, minted: 0n, burned: 0n, supply: 0n }])) as Record<
      Asset,
      AssetReport
    >;
    for (const r of rows) {
      assets[r.asset] = { sum: BigInt(r.balances), minted: BigInt(r.minted), burned: BigInt(r.burned), supply: -BigInt(r.issuance) };
      if (r.balances !== '0') report('ASSET_NOT_ZERO', `${r.asset}: balances sum to ${r.balances}`);
      if (r.postings !== '0') report('ASSET_NOT_ZERO', `${r.asset}: postings sum to ${r.postings}`);
    }
    return { entries: Number(count), assets };
  }

  /** Walks the seals in order, recomputing each hash from the entry as it is now. */
  private async checkChain(em: EntityManager, report: (code: string, detail: string) => void): Promise<{ ok: boolean; sealed: number }> {
    let ok = true;
    const fail = (code: string, detail: string) => {
      ok = false;
      report(code, detail);
    };
    let prev: Buffer = GENESIS_HASH;
    let expectedSeq = 1n;
    let lastOrder: [bigint, string] | undefined;
    let sealed = 0;
    for (;;) {
      const seals = await queryRows<{
        seq: string;
        entry_id: string;
        entry_xid: string;
        xid: string | null;
        prev_hash: Buffer;
        hash: Buffer;
      }>(
        em,
        `SELECT s.seq::text AS seq, s.entry_id, s.entry_xid::text AS entry_xid, e.xid::text AS xid, s.prev_hash, s.hash
           FROM ledger_seals s LEFT JOIN ledger_entries e ON e.id = s.entry_id
          WHERE s.seq >= $1 ORDER BY s.seq LIMIT ${PAGE}`,
        [expectedSeq.toString()],
      );
      if (!seals.length) break;
      const entries = await loadChainEntries(
        em,
        seals.map((s) => s.entry_id),
      );
      sealed += seals.length;
      for (const s of seals) {
        if (BigInt(s.seq) !== expectedSeq) fail('CHAIN_GAP', `seal ${expectedSeq} is missing (next is ${s.seq})`);
        expectedSeq = BigInt(s.seq) + 1n;
        const entry = entries.get(s.entry_id);
        if (!entry || s.xid !== s.entry_xid) {
          fail('CHAIN_ENTRY', `seal ${s.seq}: entry ${s.entry_id} is missing or was rewritten`);
          prev = s.hash;
          continue;
        }
        const order: [bigint, string] = [BigInt(s.entry_xid), s.entry_id];
        if (lastOrder && (order[0] < lastOrder[0] || (order[0] === lastOrder[0] && order[1] <= lastOrder[1]))) {
          fail('CHAIN_ORDER', `seal ${s.seq}: entry ${s.entry_id} is out of order`);
        }
        lastOrder = order;
        if (!s.prev_hash.equals(prev)) fail('CHAIN_LINK', `seal ${s.seq} does not link to seal ${BigInt(s.seq) - 1n}`);
        if (!chainHash(s.prev_hash, entry).equals(s.hash))
          fail('CHAIN_HASH', `seal ${s.seq}: entry ${s.entry_id} no longer matches its hash`);
        prev = s.hash;
      }
    }
    return { ok, sealed };
  }
}

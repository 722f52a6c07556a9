import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { TransactionRunner } from '../database/transaction-runner';
import { chainHash, GENESIS_HASH } from './ledger-chain';
import { LedgerChainRepository } from './ledger-chain.repository';
import { LedgerSealerService } from './ledger-sealer.service';
import { Asset, ASSETS, AssetReport, VerifyProblem, VerifyReport } from './ledger.types';

const PAGE = 2000;
const MAX_PROBLEMS = 100;

type Report = (code: string, detail: string) => void;

/**
 * Recomputes the ledger from its postings and checks it against itself: every account's balance
 * (its row plus its pending credits) against the sum of its postings, reservations against pending holds, no balance below zero where
 * that is not allowed, every entry balanced per asset, every asset summing to zero, and the hash chain
 * from the first seal to the last. Reads run in one read-only REPEATABLE READ snapshot, so the
 * report is consistent while writers carry on.
 */
@Injectable()
export class LedgerVerifierService {
  constructor(
    private readonly tx: TransactionRunner,
    private readonly sealer: LedgerSealerService,
    private readonly chain: LedgerChainRepository,
  ) {}

  async verify(): Promise<VerifyReport> {
    await this.sealer.sealPending();
    return this.tx.run(
      async (em) => {
        await this.chain.readOnly(em);
        const problems: VerifyProblem[] = [];
        const report: Report = (code, detail) => {
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

  private async checkAccounts(em: EntityManager, report: Report): Promise<number> {
    const count = await this.chain.countAccounts(em);
    for (const r of await this.chain.badAccounts(em, MAX_PROBLEMS)) {
      if (r.balance === null) {
        report('BALANCE_ROWS', `account ${r.id} (${r.label}) has no balance row`);
        continue;
      }
      if (r.balance !== r.posted)
        report('BALANCE_MISMATCH', `account ${r.id} (${r.label}): balance ${r.balance}, postings sum to ${r.posted}`);
      if (r.held !== r.pending) report('HELD_MISMATCH', `account ${r.id} (${r.label}): held ${r.held}, pending holds sum to ${r.pending}`);
      if (r.negative) report('NEGATIVE_BALANCE', `account ${r.id} (${r.label}) is below zero`);
    }
    return count;
  }

  private async checkEntriesAndAssets(em: EntityManager, report: Report): Promise<{ entries: number; assets: Record<Asset, AssetReport> }> {
    const count = await this.chain.countEntries(em);
    for (const u of await this.chain.unbalancedEntries(em, MAX_PROBLEMS))
      report('UNBALANCED_ENTRY', `entry ${u.id} (${u.legs} postings) does not balance per asset`);

    const assets = Object.fromEntries(ASSETS.map((a) => [a, { sum: 0n, minted: 0n, burned: 0n, supply: 0n }])) as Record<
      Asset,
      AssetReport
    >;
    for (const r of await this.chain.assetTotals(em)) {
      assets[r.asset] = { sum: BigInt(r.balances), minted: BigInt(r.minted), burned: BigInt(r.burned), supply: -BigInt(r.issuance) };
      if (r.balances !== '0') report('ASSET_NOT_ZERO', `${r.asset}: balances sum to ${r.balances}`);
      if (r.postings !== '0') report('ASSET_NOT_ZERO', `${r.asset}: postings sum to ${r.postings}`);
    }
    return { entries: count, assets };
  }

  /** Walks the seals in order, recomputing each hash from the entry as it is now. */
  private async checkChain(em: EntityManager, report: Report): Promise<{ ok: boolean; sealed: number }> {
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
      const seals = await this.chain.sealsFrom(em, expectedSeq, PAGE);
      if (!seals.length) break;
      const entries = await this.chain.chainEntries(
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

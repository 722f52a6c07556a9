import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { TransactionRunner } from '../database/transaction-runner';
import { LedgerSupplyRepository, SupplyRow } from './ledger-supply.repository';
import { AccountName, Asset, ASSETS, AssetSupply, DebtFlows, SupplyReport } from './ledger.types';

const key = (r: SupplyRow) => `${r.asset}/${r.name}`;

/** Supply and debt sums for reports, each read in one read-only REPEATABLE READ snapshot. */
@Injectable()
export class LedgerSupplyService {
  constructor(
    private readonly tx: TransactionRunner,
    private readonly dataSource: DataSource,
    private readonly repo: LedgerSupplyRepository,
  ) {}

  async supplyAt(at?: Date): Promise<SupplyReport> {
    return this.tx.run(
      async (em) => {
        await this.repo.readOnly(em);
        const posted = await this.repo.postedByName(em, at ?? null);
        const mismatches: string[] = [];
        const assets = Object.fromEntries(ASSETS.map((a) => [a, { minted: 0n, burned: 0n, outstanding: 0n, byAccount: {} }])) as Record<
          Asset,
          AssetSupply
        >;
        const sums = new Map<Asset, bigint>();
        for (const r of posted) {
          const s = assets[r.asset];
          const balance = BigInt(r.balance);
          sums.set(r.asset, (sums.get(r.asset) ?? 0n) + balance);
          if (r.name === 'issuance') {
            s.minted = BigInt(r.debits);
            s.outstanding -= balance;
          } else if (r.name === 'burn') {
            s.burned = balance;
          } else {
            s.byAccount[r.name as AccountName] = balance;
          }
        }
        for (const a of ASSETS) {
          assets[a].outstanding -= assets[a].burned;
          if ((sums.get(a) ?? 0n) !== 0n) mismatches.push(`${a}: postings sum to ${sums.get(a)}, not 0`);
        }
        if (at === undefined) {
          const balances = new Map((await this.repo.balancesByName(em)).map((r) => [key(r), BigInt(r.balance)]));
          for (const r of posted) {
            const b = balances.get(key(r)) ?? 0n;
            if (b !== BigInt(r.balance)) mismatches.push(`${key(r)}: postings sum to ${r.balance}, balances to ${b}`);
            balances.delete(key(r));
          }
          for (const [k, b] of balances) if (b !== 0n) mismatches.push(`${k}: no postings, balances sum to ${b}`);
        }
        return { at: at ?? null, assets, mismatches };
      },
      { isolation: 'REPEATABLE READ' },
    );
  }

  async debtFlows(from: Date, to: Date, stepSeconds: number): Promise<DebtFlows> {
    const rows = await this.repo.debtFlows(this.dataSource, from, to, stepSeconds);
    const flows: DebtFlows = { opening: 0n, intervals: new Map() };
    for (const r of rows) {
      if (r.bucket === null) flows.opening = BigInt(r.created) - BigInt(r.repaid);
      else flows.intervals.set(r.bucket, { created: BigInt(r.created), repaid: BigInt(r.repaid) });
    }
    return flows;
  }
}

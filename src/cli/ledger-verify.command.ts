import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../database/data-source';
import { TransactionRunner } from '../database/transaction-runner';
import { LedgerChainRepository } from '../ledger/ledger-chain.repository';
import { LedgerSealerService } from '../ledger/ledger-sealer.service';
import { LedgerVerifierService } from '../ledger/ledger-verifier.service';
import { verifyJson } from '../ledger/ledger.json';
import { assertMigrated } from './cli-database';
import { CliDeps, withDatabase } from './cli-context';

export const LEDGER_VERIFY_USAGE = `ledger verify [--json]      (also: npm run ledger:verify [-- --json])
    Seals pending entries into the hash chain, then recomputes every balance from the postings, checks
    the chain and that every asset sums to zero. Exit code 0 when the ledger is sound, 1 otherwise.`;

export async function ledgerVerify(args: string[], deps: CliDeps): Promise<number> {
  const unknown = args.filter((a) => a !== '--json');
  if (unknown.length) {
    deps.err(`Unknown arguments.\n\nUsage: npm run cli -- ${LEDGER_VERIFY_USAGE}`);
    return 2;
  }
  const json = args.includes('--json');
  return withDatabase(deps, { quiet: json }, async (db) => {
    await assertMigrated(db.url);
    const dataSource = new DataSource(dataSourceOptions(db.url, { extra: { max: 2 } }));
    await dataSource.initialize();
    try {
      const tx = new TransactionRunner(dataSource);
      const chain = new LedgerChainRepository();
      const report = await new LedgerVerifierService(tx, new LedgerSealerService(tx, chain), chain).verify();
      if (json) {
        deps.out(JSON.stringify(verifyJson(report), null, 2));
        return report.ok ? 0 : 1;
      }
      deps.out(
        `Ledger ${report.ok ? 'OK' : 'NOT OK'}: ${report.entries} entries (${report.sealed} sealed, ${report.unsealed} pending), ${report.accounts} accounts`,
      );
      deps.out(`Hash chain: ${report.chainOk ? 'intact' : 'BROKEN'}`);
      for (const [asset, a] of Object.entries(report.assets)) {
        deps.out(`  ${asset.padEnd(9)} sum ${a.sum}  minted ${a.minted}  burned ${a.burned}  supply ${a.supply}`);
      }
      for (const p of report.problems) deps.out(`  ! ${p.code}: ${p.detail}`);
      return report.ok ? 0 : 1;
    } finally {
      await dataSource.destroy();
    }
  });
}

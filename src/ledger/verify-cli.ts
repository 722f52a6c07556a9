import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfigOrExit, prepareDatabase } from '../boot';
import { dataSourceOptions } from '../database/data-source';
import { TransactionRunner } from '../database/transaction-runner';
import { LedgerChainRepository } from './ledger-chain.repository';
import { LedgerSealerService } from './ledger-sealer.service';
import { LedgerVerifierService } from './ledger-verifier.service';
import { verifyJson } from './ledger.json';

const USAGE = `Usage: npm run ledger:verify [-- --json]

Seals pending entries into the hash chain, then recomputes every balance from the postings, checks
the chain and that every asset sums to zero. Uses DATABASE_URL when set, otherwise the embedded
PostgreSQL under DATA_DIR (stop a server running on the same DATA_DIR first). Exit code 0 when the
ledger is sound, 1 when a problem was found.`;

async function main(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  const json = args.includes('--json');
  const config = loadConfigOrExit({ LOG_LEVEL: 'warn', ...process.env, JOBS_ENABLED: 'false' });
  const db = await prepareDatabase(config, json ? () => undefined : console.log);
  const dataSource = new DataSource(dataSourceOptions(db.url, { extra: { max: 2 } }));
  await dataSource.initialize();
  try {
    const tx = new TransactionRunner(dataSource);
    const chain = new LedgerChainRepository();
    const report = await new LedgerVerifierService(tx, new LedgerSealerService(tx, chain), chain).verify();
    if (json) {
      console.log(JSON.stringify(verifyJson(report), null, 2));
    } else {
      console.log(
        `Ledger ${report.ok ? 'OK' : 'NOT OK'}: ${report.entries} entries (${report.sealed} sealed, ${report.unsealed} pending), ${report.accounts} accounts`,
      );
      console.log(`Hash chain: ${report.chainOk ? 'intact' : 'BROKEN'}`);
      for (const [asset, a] of Object.entries(report.assets)) {
        console.log(`  ${asset.padEnd(9)} sum ${a.sum}  minted ${a.minted}  burned ${a.burned}  supply ${a.supply}`);
      }
      for (const p of report.problems) console.log(`  ! ${p.code}: ${p.detail}`);
    }
    return report.ok ? 0 : 1;
  } finally {
    await dataSource.destroy();
    await db.stop?.();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(2);
  },
);

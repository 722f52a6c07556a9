import { Clock } from '../common/clock.service';
import { EconomyRollupService } from '../economy/economy-rollup.service';
import { assertMigrated } from './cli-database';
import { CliDeps, withDatabase } from './cli-context';

export const ECONOMY_ROLLUPS_USAGE = `economy rollups rebuild
    Empties the economy report's rollup of the orders and counts every sale into it again from the
    orders (docs/economy.md, "Speed"); the report is the same before and after.`;

export async function economyRollups(args: string[], deps: CliDeps): Promise<number> {
  if (args.length !== 1 || args[0] !== 'rebuild') {
    deps.err(`Usage: npm run cli -- ${ECONOMY_ROLLUPS_USAGE}`);
    return 2;
  }
  return withDatabase(deps, {}, async (db, config) => {
    await assertMigrated(db.url);
    const opened = await deps.open(config, db.url);
    try {
      const until = await opened.app.get(EconomyRollupService).rebuild(opened.app.get(Clock).now());
      deps.out(`Economy rollup rebuilt: the sales before ${until?.toISOString() ?? 'now'} are rolled up.`);
      return 0;
    } finally {
      await opened.close();
    }
  });
}

import { migrationStatus, runMigrations } from './cli-database';
import { CliDeps, withDatabase } from './cli-context';

export const MIGRATE_USAGE = `migrate status | migrate run
    status: lists the migrations applied and pending (changes nothing). run: applies the pending ones
    (the server also applies them when it starts); on an empty DATA_DIR it creates the embedded database.`;

export async function migrate(args: string[], deps: CliDeps): Promise<number> {
  const [sub, ...rest] = args;
  if ((sub !== 'status' && sub !== 'run') || rest.length) {
    deps.err(`Usage: npm run cli -- ${MIGRATE_USAGE}`);
    return 2;
  }
  return withDatabase(deps, { create: sub === 'run' }, async (db) => {
    if (sub === 'run') {
      const applied = await runMigrations(db.url);
      deps.out(applied.length ? `Applied ${applied.length} migration(s): ${applied.join(', ')}` : 'Up to date: no migration pending.');
      return 0;
    }
    const status = await migrationStatus(db.url);
    deps.out(`Applied: ${status.applied.length} of ${status.applied.length + status.pending.length} migrations`);
    deps.out(status.pending.length ? `Pending: ${status.pending.join(', ')}` : 'Pending: none');
    if (status.unknown.length) deps.out(`Applied by newer code (unknown here): ${status.unknown.join(', ')}`);
    return 0;
  });
}

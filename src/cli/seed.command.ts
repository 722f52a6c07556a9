import type { Server } from 'node:http';
import { ensureAdmin } from '../boot';
import { assertMigrated, CliRefusal } from './cli-database';
import { CliDeps, withDatabase } from './cli-context';
import { createDemoData, DEMO_ADMIN_EMAIL, demoPassword } from './demo-data';

export const SEED_USAGE = `seed
    Demo data for exploring: an admin, two creators with published listings and two buyers with credits
    bought in the Stripe sandbox, all through the real services. Prints the accounts and their passwords
    (shown once). Refuses to run twice, in production, and with real Stripe keys.`;

export async function seed(args: string[], deps: CliDeps): Promise<number> {
  if (args.length) {
    deps.err(`Usage: npm run cli -- ${SEED_USAGE}`);
    return 2;
  }
  if (deps.env.NODE_ENV === 'production') {
    deps.err('seed creates demo accounts with known passwords: refused with NODE_ENV=production.');
    return 1;
  }
  // The CLI's own instance needs the sandbox's dev routes (mailbox, bank) to play the journey.
  return withDatabase(deps, { env: { DEV_ROUTES: 'true' } }, async (db, config) => {
    if (config.stripeSecretKey) throw new CliRefusal('seed buys credits in the Stripe sandbox: refused with STRIPE_SECRET_KEY set.');
    await assertMigrated(db.url);
    const opened = await deps.open(config, db.url);
    try {
      const password = demoPassword();
      const admin = await ensureAdmin(opened.app, DEMO_ADMIN_EMAIL, password, 'cli seed');
      if ('error' in admin || !admin.created) {
        deps.err(
          `The demo data is already there (${DEMO_ADMIN_EMAIL} exists): nothing done. Its passwords were printed by the first seed.`,
        );
        return 1;
      }
      await opened.app.listen(0, '127.0.0.1');
      const address = (opened.app.getHttpServer() as Server).address();
      const port = typeof address === 'object' && address ? address.port : 0;
      let accounts: Awaited<ReturnType<typeof createDemoData>>;
      try {
        accounts = await createDemoData(`http://127.0.0.1:${port}`, { id: admin.userId, password });
      } catch (err) {
        deps.err(`seed stopped part-way: ${err instanceof Error ? err.message : String(err)}`);
        deps.err(`What it made stays (admin ${DEMO_ADMIN_EMAIL}, password ${password}); seed again on an empty database.`);
        return 1;
      }
      deps.out('Demo data created. Sign in (POST /auth/login) with:');
      for (const a of accounts) deps.out(`  ${a.role.padEnd(8)} ${a.email.padEnd(30)} ${a.password}   ${a.note}`);
      return 0;
    } finally {
      await opened.close();
    }
  });
}

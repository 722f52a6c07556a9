import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The admins' lists (GET /admin/users, /admin/listings, /admin/orders, /admin/token-purchases) are
 * newest first, keyset on (created_at, id), narrowed by one filter at a time: these indexes serve the
 * unfiltered list and each filter that no index served yet (by creator, buyer and purchaser did).
 */
export class AdminListIndexes1763900024000 implements MigrationInterface {
  name = 'AdminListIndexes1763900024000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX users_created ON users (created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX users_email_prefix ON users (lower(email::text) text_pattern_ops)`);
    await q.query(`CREATE INDEX listings_created ON listings (created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX listings_status ON listings (status, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX orders_created ON orders (created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX orders_status ON orders (status, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX token_purchases_created ON token_purchases (created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX token_purchases_status ON token_purchases (status, created_at DESC, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const index of [
      'token_purchases_status',
      'token_purchases_created',
      'orders_status',
      'orders_created',
      'listings_status',
      'listings_created',
      'users_email_prefix',
      'users_created',
    ]) {
      await q.query(`DROP INDEX ${index}`);
    }
  }
}

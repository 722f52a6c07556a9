import { DataSource } from 'typeorm';
import { UuidIds1763900025000 } from '../../migrations/1763900025000-UuidIds';
import { UUID_RE } from '../../src/common/ids';
import { encodeCursor } from '../../src/common/pagination';
import { tableOf } from '../schema/schema-dump';
import { lastMail } from '../support/auth';
import { Actor, as, fund, makeAdmin, publishListing, signUp, signUpCreator } from '../support/market-fixtures';
import { expectRoundTrip } from '../support/migration-round-trip';
import { createTestDatabase } from '../support/test-db';
import { TestApp, useTestApp } from '../support/test-app';

type Item = { id: string };

/**
 * The ids of inventory items, sales, security events, audit entries, fraud labels and dev mail are UUIDs
 * (migration 1763900025000); each list still pages in its bigint `seq`, and a cursor handed out before the
 * migration (which held the old bigint id, now that row's seq) goes on after its row.
 */
describe("the API's ids are UUIDs", () => {
  let t: TestApp, admin: Actor, creator: Actor, buyer: Actor, frozen: Actor;
  useTestApp((app) => (t = app));
  beforeAll(async () => {
    admin = await makeAdmin(t, await signUp(t, 'admin'));
    creator = await signUpCreator(t);
    buyer = await signUp(t, 'buyer');
    await fund(t, buyer.id, 'CREDIT', 10_000);
    for (const title of ['Hat', 'Scarf', 'Boots']) {
      const listing = await publishListing(t, creator, admin, { title, profit: 1000 });
      await as(t, buyer).post('/orders', { listingId: listing.id }).expect(201);
    }
    frozen = await signUp(t, 'frozen');
    await as(t, frozen).post('/me/freeze').expect(200);
    await as(t, frozen).post('/me/unfreeze').expect(202);
    await as(t, frozen).post('/me/freeze').expect(200);
    for (const label of ['confirmed_fraud', 'confirmed_takeover']) {
      await as(t, admin).post('/admin/fraud/labels', { userId: buyer.id, label, note: 'checked' }).expect(201);
    }
  });

  const lists: [string, () => Actor, string][] = [
    ['/me/inventory', () => buyer, 'inventory'],
    ['/me/sales', () => creator, 'sale_earnings'],
    ['/me/security-events', () => frozen, 'security_events'],
    [`/admin/audit-log`, () => admin, 'audit_log'],
    ['/admin/fraud/labels', () => admin, 'fraud_labels'],
  ];

  const get = async (who: Actor, url: string) =>
    (await as(t, who).get(url).expect(200)).body as { items: Item[]; nextCursor: string | null };

  describe.each(lists)('GET %s', (path, who, table) => {
    it('answers UUID ids, each naming its row', async () => {
      const { items } = await get(who(), path);
      expect(items.length).toBeGreaterThanOrEqual(2);
      for (const item of items) expect(item.id).toMatch(UUID_RE);
      const rows = await t.sql(`SELECT 1 FROM ${table} WHERE id = ANY ($1::uuid[])`, [items.map((i) => i.id)]);
      expect(rows).toHaveLength(items.length);
    });

    it('pages newest first one item at a time, and takes a cursor of the old bigint id', async () => {
      const all = (await get(who(), path)).items.map((i) => i.id);
      const paged: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await get(who(), `${path}?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
        paged.push(...page.items.map((i) => i.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(paged).toEqual(all);

      const [{ seq }] = await t.sql<{ seq: string }>(`SELECT seq::text FROM ${table} WHERE id = $1`, [all[0]]);
      const after = await get(who(), `${path}?cursor=${encodeCursor([seq])}`);
      expect(after.items.map((i) => i.id)).toEqual(all.slice(1));
    });
  });

  it("records a label's UUID in its audit entry", async () => {
    const labels = (await get(admin, `/admin/fraud/labels?userId=${buyer.id}`)).items;
    const audit = (await get(admin, `/admin/audit-log?subjectId=${buyer.id}&action=fraud.label_added`)).items as (Item & {
      data: { labelId: string };
    })[];
    expect(audit.map((a) => a.data.labelId).sort()).toEqual(labels.map((l) => l.id).sort());
  });

  it('answers dev mailbox messages with UUID ids, newest first', async () => {
    expect(await lastMail(t, frozen.email, 'email_verification')).toBeDefined();
    const res = await t
      .http()
      .get(`/dev/mailbox/${encodeURIComponent(frozen.email)}`)
      .expect(200);
    const ids = (res.body.items as Item[]).map((m) => m.id);
    expect(ids.length).toBeGreaterThanOrEqual(2);
    for (const id of ids) expect(id).toMatch(UUID_RE);
    const rows = await t.sql<{ id: string }>(`SELECT id FROM dev_mailbox WHERE recipient = lower($1) ORDER BY seq DESC`, [frozen.email]);
    expect(rows.map((r) => r.id)).toEqual(ids);
  });

  it('refuses a forged audit-log cursor and a subjectId that is not a UUID (400, not a database error)', async () => {
    for (const query of [`cursor=${encodeCursor(['x'])}`, 'subjectId=nope']) {
      const res = await as(t, admin).get(`/admin/audit-log?${query}`).expect(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
    }
  });
});

describe('migration 1763900025000 (UUID ids)', () => {
  it('goes down to the bigint ids and up again', async () => {
    await expectRoundTrip([new UuidIds1763900025000()], (down) => {
      for (const table of UuidIds1763900025000.TABLES) {
        expect(tableOf(down, table)).toMatch(/\(\n {4}id bigint DEFAULT nextval/);
        expect(tableOf(down, table)).not.toMatch(/\bseq\b|uuidv7/);
      }
    });
  });

  it('keeps every row, its bigint id as seq (what old cursors hold), and gives each a UUID of its own', async () => {
    const db = await createTestDatabase();
    const ds = new DataSource({ type: 'postgres', url: db.url, extra: { max: 1 } });
    await ds.initialize();
    const qr = ds.createQueryRunner();
    const migration = new UuidIds1763900025000();
    try {
      await migration.down(qr);
      const before = (await qr.query(
        `INSERT INTO audit_log (occurred_at, action) SELECT now(), 'test.' || i FROM generate_series(1, 3) i RETURNING id::text, action`,
      )) as { id: string; action: string }[];
      await migration.up(qr);
      const after = (await qr.query(`SELECT seq::text, id::text, action FROM audit_log ORDER BY seq`)) as {
        seq: string;
        id: string;
        action: string;
      }[];
      expect(after.map((r) => ({ id: r.seq, action: r.action }))).toEqual(before);
      for (const r of after) expect(r.id).toMatch(UUID_RE);
      expect(new Set(after.map((r) => r.id)).size).toBe(after.length);

      const [next] = (await qr.query(
        `INSERT INTO audit_log (occurred_at, action) VALUES (now(), 'test.next') RETURNING seq::text, id::text`,
      )) as {
        seq: string;
        id: string;
      }[];
      expect(BigInt(next.seq)).toBeGreaterThan(BigInt(after[after.length - 1].seq));
      expect(next.id).toMatch(UUID_RE);
    } finally {
      await qr.release();
      await ds.destroy();
      await db.drop();
    }
  });
});

import { Client } from 'pg';
import { majorVersion, prepareServer, STAND_INS } from '../../src/database/server-compat';
import { createTestDatabase, TestDatabase } from '../support/test-db';

/**
 * The stand-ins for functions newer than the server (src/database/server-compat.ts), installed into a
 * scratch schema so that they are exercised on every server, beside the built-ins where the server has them.
 */
describe('server compatibility (PostgreSQL 15-18)', () => {
  let db: TestDatabase;
  let c: Client;
  const one = async <T>(sql: string, params: unknown[] = []): Promise<T> => (await c.query(sql, params)).rows[0] as T;

  beforeAll(async () => {
    db = await createTestDatabase();
    c = new Client({ connectionString: db.url });
    await c.connect();
    await c.query('CREATE SCHEMA compat_test');
    for (const s of STAND_INS) await c.query(s.sql('compat_test'));
  });
  afterAll(async () => {
    await c?.end();
    await db?.drop();
  });

  it('prepareServer: the stand-ins this server lacks, then uuidv7() and pg_input_is_valid() resolve', async () => {
    const { num } = await one<{ num: number }>(`SELECT current_setting('server_version_num')::int AS num`);
    const query = async (sql: string, params?: unknown[]) => (await c.query(sql, params)).rows as Record<string, unknown>[];
    const created = await prepareServer(query, 'test');
    expect(created).toEqual(STAND_INS.filter((s) => majorVersion(num) < s.since).map((s) => s.builtin));
    const row = await one<{ u: string; valid: boolean }>(`SELECT uuidv7()::text AS u, pg_input_is_valid('10.1.2.3', 'inet') AS valid`);
    expect(row).toMatchObject({ u: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-7/), valid: true });
  });

  it('uuidv7 stand-in: version 7, RFC variant, the current Unix milliseconds first, strictly increasing in a session', async () => {
    const { before, ids, after } = await one<{ before: string; ids: string[]; after: string }>(
      `SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint AS before,
              (SELECT array_agg(compat_test.uuidv7()::text ORDER BY n) FROM generate_series(1, 2000) n) AS ids,
              floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint AS after`,
    );
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const ms = (id: string) => parseInt(id.replace(/-/g, '').slice(0, 12), 16);
    expect(ms(ids[0])).toBeGreaterThanOrEqual(Number(before));
    expect(ms(ids[ids.length - 1])).toBeLessThanOrEqual(Number(after) + 1);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    const next = await one<{ u: string }>('SELECT compat_test.uuidv7()::text AS u');
    expect(next.u > ids[ids.length - 1]).toBe(true);
  });

  it('pg_input_is_valid stand-in: the built-in answers (false for bad input, an error for an unknown type)', async () => {
    const cases: [string, string, boolean][] = [
      ['10.1.2.3', 'inet', true],
      ['2001:db8::1', 'inet', true],
      ['10.0.0.0/8', 'cidr', true],
      ['10.0.0.1/8', 'cidr', false],
      ['not an address', 'inet', false],
      ['42', 'integer', true],
      ['4x2', 'integer', false],
      ['99999999999', 'integer', false],
    ];
    for (const [input, type, valid] of cases) {
      expect(await one(`SELECT compat_test.pg_input_is_valid($1, $2) AS valid`, [input, type])).toEqual({ valid });
    }
    const builtin = await one<{ has: boolean }>(`SELECT to_regprocedure('pg_catalog.pg_input_is_valid(text,text)') IS NOT NULL AS has`);
    if (builtin.has) {
      for (const [input, type, valid] of cases) {
        expect(await one(`SELECT pg_catalog.pg_input_is_valid($1, $2) AS valid`, [input, type])).toEqual({ valid });
      }
    }
    await expect(c.query(`SELECT compat_test.pg_input_is_valid('1', 'no_such_type')`)).rejects.toThrow(
      /type "no_such_type" does not exist/,
    );
  });
});

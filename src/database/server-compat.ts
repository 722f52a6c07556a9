/**
 * What the migrations and repositories need of the PostgreSQL server: version 15 or later, and on
 * servers older than the functions they call, stand-ins of those functions created (in the schema
 * the migrations build in) before the migrations run. The one place for both.
 */

export const MIN_SERVER_VERSION = 15;
export const NEWEST_TESTED_SERVER_VERSION = 18;

import { DatabaseStartError } from './database.errors';

type Query = (sql: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;

interface StandIn {
  /** The built-in it stands in for, as to_regprocedure reads it. */
  builtin: string;
  /** The major version that ships it. */
  since: number;
  /** CREATE OR REPLACE FUNCTION for `schema`. */
  sql(schema: string): string;
}

export const STAND_INS: StandIn[] = [
  {
    // RFC 9562 version 7, as PostgreSQL 18 makes them: 48 bits of Unix milliseconds, then 12 bits of
    // sub-millisecond fraction, strictly increasing within a session (the last value is a session
    // setting), then random bits.
    builtin: 'uuidv7()',
    since: 18,
    sql: (schema) => `CREATE OR REPLACE FUNCTION ${schema}.uuidv7() RETURNS uuid LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  us bigint := (extract(epoch FROM clock_timestamp()) * 1000000)::bigint;
  last_us bigint := coalesce(nullif(current_setting('bazaar.uuidv7_last_us', true), '')::bigint, 0);
  fraction int;
  b bytea := uuid_send(gen_random_uuid());
BEGIN
  IF us <= last_us THEN
    us := last_us + 1;
  END IF;
  PERFORM set_config('bazaar.uuidv7_last_us', us::text, false);
  fraction := ((us % 1000) * 4096 / 1000)::int;
  b := overlay(b PLACING substring(int8send(us / 1000) FROM 3) FROM 1 FOR 6);
  b := set_byte(set_byte(b, 6, 112 | (fraction >> 8)), 7, fraction & 255);
  RETURN encode(b, 'hex')::uuid;
END
$$`,
  },
  {
    builtin: 'pg_input_is_valid(text,text)',
    since: 16,
    sql: (schema) => `CREATE OR REPLACE FUNCTION ${schema}.pg_input_is_valid(input text, type text) RETURNS boolean
LANGUAGE plpgsql STABLE STRICT AS $$
BEGIN
  EXECUTE format('SELECT %L::%s', input, type::regtype);
  RETURN true;
EXCEPTION WHEN data_exception THEN
  RETURN false;
END
$$`,
  },
];

/** The major version of `server_version_num` (e.g. 150018 → 15). */
export function majorVersion(serverVersionNum: number): number {
  return Math.floor(serverVersionNum / 10000);
}

/** Refuses a server older than MIN_SERVER_VERSION, naming what was found and what is needed. */
export function assertSupportedVersion(serverVersion: string, serverVersionNum: number, where: string): void {
  if (majorVersion(serverVersionNum) < MIN_SERVER_VERSION) {
    throw new DatabaseStartError(
      `PostgreSQL ${serverVersion} at ${where} is too old: Bazaar needs PostgreSQL ${MIN_SERVER_VERSION} or later (${MIN_SERVER_VERSION}-${NEWEST_TESTED_SERVER_VERSION} are tested).`,
    );
  }
}

// Two processes starting at once would otherwise race on CREATE OR REPLACE.
const COMPAT_LOCK = 731_000_003;

/** The server's major version, refused (DatabaseStartError) below MIN_SERVER_VERSION. */
export async function supportedServerVersion(query: Query, where: string): Promise<number> {
  const [v] = await query(`SELECT current_setting('server_version') AS version, current_setting('server_version_num')::int AS num`);
  assertSupportedVersion(String(v.version), Number(v.num), where);
  return majorVersion(Number(v.num));
}

/**
 * Checks the server's version and creates the stand-ins it lacks in the current schema (where the
 * migrations create their objects); answers the built-ins stood in for. `query` must be one session.
 */
export async function prepareServer(query: Query, where: string): Promise<string[]> {
  const major = await supportedServerVersion(query, where);
  const missing = STAND_INS.filter((s) => major < s.since);
  if (!missing.length) return [];
  await query('BEGIN');
  try {
    await query('SELECT pg_advisory_xact_lock($1)', [COMPAT_LOCK]);
    const [{ schema }] = await query('SELECT quote_ident(current_schema()) AS schema');
    for (const s of missing) await query(s.sql(String(schema)));
    await query('COMMIT');
  } catch (err) {
    await query('ROLLBACK');
    throw err;
  }
  return missing.map((s) => s.builtin);
}

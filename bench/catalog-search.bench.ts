/**
 * Catalog search at scale: fills `listings` with BENCH_LISTINGS (default 1,000,000) rows with
 * generate_series, then times the queries GET /listings runs (the real ListingSearchService) and
 * prints each one's EXPLAIN ANALYZE summary.   npm run bench:catalog
 */
import 'reflect-metadata';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { DataSource } from 'typeorm';
import { SearchListingsQuery } from '../src/catalog/dto/listing.dto';
import { ListingSearchRepository } from '../src/catalog/listing-search.repository';
import { AdminListingsRepository } from '../src/catalog/admin-listings.repository';
import { ListingSearchService } from '../src/catalog/listing-search.service';
import { encodeCursor } from '../src/common/pagination';
import { loadConfig } from '../src/config/app-config';
import { dataSourceOptions } from '../src/database/data-source';
import { queryRows } from '../src/database/sql';
import { benchDatabase, fmt, percentile } from './bench-db';

const N = Number(process.env.BENCH_LISTINGS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 200);
const CREATORS = 1000;

const ADJECTIVES = (
  'shiny elegant rugged cozy vintage sleek fluffy glowing royal gothic sporty casual retro futuristic ' +
  'tiny huge classic modern rustic silky velvet leather woolen denim golden silver wooden frozen fiery stormy ' +
  'sunny misty ancient mystic urban tropical arctic desert jungle ocean cosmic neon pastel matte glossy striped ' +
  'dotted plaid floral tribal geometric abstract minimal baroque punk grunge preppy boho chic formal lazy brave ' +
  'gentle wild calm bold quiet loud sweet sour spicy crisp soft hard light heavy bright dark pale deep warm cool ' +
  'fresh old young noble humble fancy plain rare common magic cursed blessed haunted lucky'
).split(' ');
const COLORS = 'red blue green black white pink purple orange yellow brown grey teal navy maroon beige gold cyan lime ivory'.split(' ');
const NOUNS = (
  'hat jacket dress boots scarf gloves hoodie skirt jeans shirt sneakers cape crown mask wings tail ears ' +
  'necklace ring bracelet earrings glasses sofa chair table lamp rug bed desk shelf mirror clock vase plant ' +
  'poster curtain pillow blanket guitar piano drum violin sword shield bow staff wand helmet armor belt bag ' +
  'backpack wallet umbrella kimono tuxedo gown vest coat parka sweater cardigan blazer shorts leggings sandals ' +
  'heels loafers slippers socks tie bowtie beret beanie cap visor bandana veil tiara halo horns fangs claws ' +
  'tattoo makeup lipstick eyeliner hairstyle ponytail braid bun mohawk wig beard mustache fountain garden pond ' +
  'bridge tower castle house cabin tent car bike skateboard surfboard boat rocket robot dragon unicorn cat dog ' +
  'fox wolf bear owl bunny pet aquarium window door stairs fireplace kitchen bathtub throne altar portal ' +
  'statue painting sculpture banner flag lantern candle torch chandelier carpet wallpaper floor ceiling roof ' +
  'balcony terrace pool jacuzzi hammock swing slide trampoline arcade jukebox speaker headphones phone laptop ' +
  'camera tablet console controller keyboard microphone stage podium booth stall cart wagon carriage sleigh ' +
  'glider balloon kite parachute anchor compass map globe telescope microscope potion scroll book quill ' +
  'feather gem crystal orb amulet talisman charm relic idol totem mural tapestry quilt apron uniform overalls'
).split(' ');
const CATEGORIES = Array.from({ length: 40 }, (_, i) => `cat-${i}`);

async function seed(ds: DataSource): Promise<void> {
  const have = Number((await queryRows<{ n: string }>(ds, `SELECT count(*) AS n FROM listings`))[0].n);
  if (have >= N) return console.log(`listings already hold ${have} rows; reusing them`);
  let t = performance.now();
  await queryRows(
    ds,
    `INSERT INTO users (email, display_name, password_hash, roles, created_at, password_changed_at, updated_at)
     SELECT 'bench-creator-' || i || '@bench.local', 'Creator ' || i, '$argon2id$bench', '{buyer,creator}', now(), now(), now()
     FROM generate_series(1, $1) i ON CONFLICT (email) DO NOTHING`,
    [CREATORS],
  );
  await queryRows(
    ds,
    `INSERT INTO creators (user_id, created_at) SELECT id, now() FROM users WHERE email LIKE 'bench-creator-%' ON CONFLICT DO NOTHING`,
  );
  // The guard trigger checks one row at a time what generate_series builds correctly by construction.
  await queryRows(ds, `ALTER TABLE listings DISABLE TRIGGER listings_guard`);
  try {
    await queryRows(
      ds,
      `WITH c AS (SELECT array_agg(user_id ORDER BY user_id) AS ids FROM creators)
       INSERT INTO listings (creator_id, title, description, category, profit, derivation_cost, platform_fee, price, status,
         submission_fee_asset, submission_fee, created_at, updated_at, submitted_at, published_at)
       SELECT c.ids[1 + i % cardinality(c.ids)],
         initcap(($2::text[])[1 + i % cardinality($2::text[])]) || ' ' || ($3::text[])[1 + (i / 7) % cardinality($3::text[])] || ' '
           || ($4::text[])[1 + (i / 13) % cardinality($4::text[])],
         'A ' || ($2::text[])[1 + (i / 3) % cardinality($2::text[])] || ' item from the c' || (i % 5000) || ' collection, style s'
           || (i % 1009) || '. Made for avatars who like ' || ($4::text[])[1 + (i / 17) % cardinality($4::text[])] || 's.'
           -- a word only the oldest 0.3% carry: the worst case for walking the newest-first index
           || CASE WHEN i <= $1 * 3 / 1000 THEN ' Legacy edition.' ELSE '' END,
         ($5::text[])[1 + (i / 11) % cardinality($5::text[])],
         100 * (1 + i % 50), 0, 10 * (1 + i % 50), 110 * (1 + i % 50),
         s.status, CASE WHEN s.status = 'draft' THEN NULL ELSE 'CREDIT' END, CASE WHEN s.status = 'draft' THEN NULL ELSE 500 END,
         p.at, p.at, CASE WHEN s.status = 'draft' THEN NULL ELSE p.at END,
         CASE WHEN s.status IN ('published', 'delisted') THEN p.at END
       FROM generate_series(1, $1) i CROSS JOIN c
       CROSS JOIN LATERAL (SELECT timestamptz '2024-01-01' + i * interval '20 second' + (i % 997) * interval '1 millisecond' AS at) p
       CROSS JOIN LATERAL (SELECT CASE WHEN i % 20 = 0 THEN 'draft' WHEN i % 20 = 1 THEN 'delisted' ELSE 'published' END AS status) s`,
      [N, ADJECTIVES, COLORS, NOUNS, CATEGORIES],
    );
  } finally {
    await queryRows(ds, `ALTER TABLE listings ENABLE TRIGGER listings_guard`);
  }
  console.log(`inserted ${N} listings in ${fmt((performance.now() - t) / 1000, 1)} s`);
  t = performance.now();
  await queryRows(ds, 'VACUUM ANALYZE listings');
  console.log(`VACUUM ANALYZE in ${fmt((performance.now() - t) / 1000, 1)} s`);
}

interface Case {
  name: string;
  query: SearchListingsQuery;
}

async function cases(ds: DataSource): Promise<Case[]> {
  const [creator] = await queryRows<{ creator_id: string }>(ds, `SELECT creator_id FROM listings WHERE status = 'published' LIMIT 1`);
  const [deep] = await queryRows<{ at: string; id: string }>(
    ds,
    `SELECT published_at::text AS at, id FROM listings WHERE status = 'published' ORDER BY published_at DESC, id DESC OFFSET 10000 LIMIT 1`,
  );
  return [
    { name: 'browse, first page', query: {} },
    { name: 'browse, page 201 (keyset cursor)', query: { cursor: encodeCursor([deep.at, deep.id]) } },
    { name: 'category', query: { category: 'cat-7' } },
    { name: 'creatorId', query: { creatorId: creator.creator_id } },
    { name: 'q: word in every listing', query: { q: 'avatars' } },
    { name: 'q: common word (~5%)', query: { q: 'red' } },
    { name: 'q: word (~0.5%)', query: { q: 'dragon' } },
    { name: 'q: rare word (~0.02%)', query: { q: 'c4242' } },
    { name: 'q: word only in the oldest 0.3%', query: { q: 'legacy' } },
    { name: 'q: two words', query: { q: 'golden crown' } },
    { name: 'q: phrase', query: { q: '"royal blue"' } },
    { name: 'q + category', query: { q: 'red', category: 'cat-3' } },
    { name: 'q: no match', query: { q: 'zzyzx' } },
    { name: 'q: stems (dragons -> dragon)', query: { q: 'dragons' } },
  ];
}

async function main(): Promise<void> {
  const db = await benchDatabase();
  const ds = new DataSource(dataSourceOptions(db.url, { extra: { max: 4 } }));
  await ds.initialize();
  try {
    await seed(ds);
    let calls: { sql: string; params: unknown[] }[] = [];
    const recording = {
      query: (sql: string, params: unknown[]) => (calls.push({ sql, params }), queryRows(ds, sql, params)),
    } as unknown as DataSource;
    const config = loadConfig({
      NODE_ENV: 'test',
      JWT_SECRET: 'x'.repeat(32),
      ENCRYPTION_KEY: Buffer.alloc(32).toString('base64'),
      SEARCH_EXACT_MATCHES: process.env.SEARCH_EXACT_MATCHES,
      SEARCH_WINDOW: process.env.SEARCH_WINDOW,
    });
    console.log(`SEARCH_EXACT_MATCHES=${config.catalogSearch.exactMatches} SEARCH_WINDOW=${config.catalogSearch.window}`);
    const search = new ListingSearchService(recording, new ListingSearchRepository(), config, new AdminListingsRepository());
    const [{ published }] = await queryRows<{ published: string }>(
      ds,
      `SELECT count(*) FILTER (WHERE status = 'published') AS published FROM listings`,
    );
    console.log(
      `load average ${loadavg()
        .map((l) => fmt(l))
        .join(' ')}`,
    );
    console.log(`\n${N} listings (${published} published), ${RUNS} runs per query, limit 50\n`);
    const results: string[][] = [];
    for (const c of await cases(ds)) {
      await search.search({ ...c.query, limit: 50 }); // warm the cache
      const times: number[] = [];
      let count = 0;
      for (let i = 0; i < RUNS; i++) {
        calls = [];
        const t = performance.now();
        count = (await search.search({ ...c.query, limit: 50 })).items.length;
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      // the statements of the last run, each explained: total execution time and the index accesses
      let exec = 0;
      const access = new Set<string>();
      // the planner-estimate statement (an EXPLAIN itself) is timed with the rest, not explained again
      for (const call of calls.splice(0).filter((c) => !c.sql.startsWith('EXPLAIN'))) {
        const plan = await queryRows<{ 'QUERY PLAN': string }>(ds, `EXPLAIN (ANALYZE, BUFFERS) ${call.sql}`, call.params);
        for (const { 'QUERY PLAN': l } of plan) {
          if (l.startsWith('Execution Time')) exec += Number(/([\d.]+) ms/.exec(l)?.[1] ?? NaN);
          const m = /(Index (?:Only )?Scan(?: Backward)? using \w+|Bitmap Index Scan on \w+|Seq Scan on \w+)/.exec(l);
          if (m) access.add(m[1]);
        }
      }
      results.push([
        c.name,
        String(count),
        fmt(percentile(times, 50)),
        fmt(percentile(times, 95)),
        fmt(percentile(times, 99)),
        `${fmt(exec, 3)} ms`,
        [...access].join(' + '),
      ]);
    }
    console.log(
      `load average ${loadavg()
        .map((l) => fmt(l))
        .join(' ')}`,
    );
    const header = ['query', 'rows', 'p50 ms', 'p95 ms', 'p99 ms', 'EXPLAIN ANALYZE (sum)', 'index accesses'];
    const widths = header.map((h, i) => Math.max(h.length, ...results.map((r) => r[i].length)));
    const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join(' | ');
    console.log(line(header));
    console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
    results.forEach((r) => console.log(line(r)));
  } finally {
    await ds.destroy();
    await db.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

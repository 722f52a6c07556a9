/**
 * Fraud rule backtests at scale: fills `fraud_decisions` with BENCH_EVENTS (default 1,000,000) events
 * shaped as the engine writes them (every catalog feature, the live rules' results) over the last
 * BENCH_DAYS (60) days for BENCH_USERS (20,000) users, labels some of them bad, lists some IP addresses
 * and networks, then times POST /admin/fraud/backtest (the path admins take) for a simple rule and one
 * with in_list.   npm run bench:backtest   (BENCH_DATABASE_URL keeps the data between runs)
 */
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import { DataSource } from 'typeorm';
import { queryRows } from '../src/database/sql';
import { FRAUD_EVENT_TYPES } from '../src/fraud/fraud.types';
import { fmt, percentile, withSeededBenchApp } from './bench-db';

const N = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const USERS = Number(process.env.BENCH_USERS ?? 20_000);
const DAYS = Number(process.env.BENCH_DAYS ?? 60);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const EMAIL_PREFIX = 'bt-user-';

/** One pseudo-random number 0..9999 per (row, stream), the same on every run. */
const h = (k: number) => `abs(hashint8extended(i, ${k})) % 10000`;

/** User n (1..USERS), computed rather than looked up: id, address and creation time ($3 is the seeding time). */
const userId = (n: string) => `md5('${EMAIL_PREFIX}' || ${n})::uuid`;
const email = (n: string) => `'${EMAIL_PREFIX}' || lpad(${n}::text, 8, '0') || '@d' || (${n} % 50) || '.example'`;
// Every account predates the events (BENCH_DAYS <= 60); the badly behaving ones are young when they act.
const createdAt = (n: string, now = '$3') =>
  `(${now}::timestamptz - (CASE WHEN ${n} % 40 = 0 THEN 55 + ${n} % 10 ELSE 61 + ${n} * 7919 % 400 END) * interval '1 day')`;

/**
 * Users 1..USERS; every 40th behaves badly (velocity, new devices, risky cards) and most of those are
 * labelled later; a few ordinary users are labelled too (noise). Events are spread evenly over DAYS.
 */
const EVENTS_SQL = `
  WITH r AS (
    SELECT t, COALESCE(jsonb_agg(jsonb_build_object('ruleId', v.rule_id, 'versionId', v.id, 'version', v.version, 'name', v.name,
             'mode', v.mode, 'action', v.action, 'score', v.score, 'matched', false) ORDER BY v.name) FILTER (WHERE v.id IS NOT NULL), '[]') AS rules
      FROM unnest($4::text[]) t
      LEFT JOIN (fraud_rules fr JOIN fraud_rule_versions v ON v.rule_id = fr.id AND v.version = fr.current_version) ON t = ANY (v.event_types)
     GROUP BY t
  )
  INSERT INTO fraud_decisions (id, event_type, user_id, subject_id, ip, device_id, card_fingerprint, amount, outcome, score,
                               features, rules, matched_rule_ids, created_at)
  SELECT gen_random_uuid(), a.type, ${userId('a.un')}, md5(i::text), a.ip::inet, a.device, a.card, a.amount, o.outcome, 0,
         f.features, r.rules, '{}', a.at
    FROM generate_series($1::int, $2::int) i
   CROSS JOIN LATERAL (SELECT 1 + abs(hashint8extended(i, 1)) % $6::int AS un, ${h(2)} % 100 AS tk,
                              ${h(3)} AS x1, ${h(4)} AS x2, ${h(5)} AS x3, ${h(6)} AS x4, ${h(7)} AS x5, ${h(8)} AS x6) x
   CROSS JOIN LATERAL (SELECT x.un % 40 = 0 AS bad,
                              CASE WHEN x.tk < 30 THEN 'login' WHEN x.tk < 45 THEN 'token_purchase' WHEN x.tk < 60 THEN 'payment_succeeded'
                                   WHEN x.tk < 85 THEN 'item_purchase' ELSE 'credit_transfer' END AS type,
                              $3::timestamptz - ($5::float8 * (1 - i::float8 / ($7::int + 1))) * interval '1 day' AS at) b
   CROSS JOIN LATERAL (SELECT b.type, b.at, b.bad, x.un,
                              CASE b.type WHEN 'login' THEN NULL
                                          WHEN 'item_purchase' THEN 100 + x.x1 % 4900
                                          WHEN 'credit_transfer' THEN 100 + x.x1 * 10
                                          ELSE (ARRAY[500, 1000, 2500, 5000, 10000, 50000])[1 + x.x1 % 6] END AS amount,
                              CASE WHEN b.bad AND x.x6 % 3 = 0 THEN '203.0.113.' || (x.x6 % 200)
                                   ELSE '10.' || (x.un % 250) || '.' || (x.un / 250 % 250) || '.' || (1 + x.x6 % 3) END AS ip,
                              md5(x.un || '-' || (x.x6 % CASE WHEN b.bad THEN 9 ELSE 2 END))::uuid AS device,
                              CASE WHEN b.type = 'payment_succeeded' THEN 'fp_' || x.un || '_' || (x.x5 % CASE WHEN b.bad THEN 6 ELSE 2 END) END AS card,
                              (ARRAY['US', 'GB', 'DE', 'FR', 'BR', 'IN'])[1 + x.un % 6] AS ip_country,
                              CASE WHEN b.type IN ('credit_transfer', 'item_purchase') AND (b.type = 'credit_transfer' OR x.x5 % 10 = 0)
                                   THEN 1 + (x.un + x.x6) % $6::int END AS rn,
                              1 + x.x1 % 3 + CASE WHEN b.bad THEN x.x2 % 6 ELSE 0 END AS e1h) a
   CROSS JOIN LATERAL (SELECT CASE WHEN a.type = 'payment_succeeded' THEN
                                CASE WHEN b.bad THEN 30 + x.x2 % 70 ELSE x.x2 % 70 END END AS risk,
                              CASE WHEN a.type = 'payment_succeeded' THEN
                                CASE WHEN x.x4 % 25 = 0 OR (b.bad AND x.x4 % 3 = 0) THEN 'NG' ELSE a.ip_country END END AS card_country) p
   CROSS JOIN LATERAL (SELECT CASE WHEN p.risk >= 75 OR (a.type = 'token_purchase' AND a.e1h > 5) THEN 'BLOCK'
                                   WHEN p.risk >= 65 OR p.card_country <> a.ip_country THEN 'REVIEW' ELSE 'ALLOW' END AS outcome) o
   CROSS JOIN LATERAL (SELECT jsonb_build_object(
       'event.type', a.type, 'event.amount', a.amount,
       'event.amountCents', CASE WHEN a.type = 'payment_succeeded' THEN a.amount END,
       'event.currency', CASE WHEN a.type = 'payment_succeeded' THEN 'usd' END,
       'event.amountToMedian', CASE WHEN a.amount IS NOT NULL THEN round(0.2 + x.x2 / 2000.0, 3) END,
       'user.id', ${userId('a.un')}, 'user.email', ${email('a.un')}, 'user.emailDomain', split_part(${email('a.un')}, '@', 2),
       'user.ageDays', greatest(0, extract(epoch FROM a.at - ${createdAt('a.un')}) / 86400),
       'user.emailVerified', x.x3 % 10 < 8, 'user.twoFactorEnabled', a.un % 5 = 0,
       'user.roles', CASE WHEN a.un % 10 = 0 THEN '["buyer", "creator"]'::jsonb ELSE '["buyer"]'::jsonb END,
       'user.chargebacks', CASE WHEN a.bad AND x.x4 % 3 = 0 THEN 1 ELSE 0 END, 'user.disputesLost', 0, 'user.confirmedBad', false,
       'user.blocks90d', CASE WHEN a.bad THEN x.x4 % 3 ELSE 0 END,
       'user.minutesSincePasswordReset', CASE WHEN x.x5 % 50 = 0 THEN x.x5 % 600 END,
       'user.events1h', a.e1h, 'user.events24h', a.e1h + x.x2 % 10, 'user.events7d', a.e1h + x.x2 % 10 + x.x3 % 40,
       'user.amount1h', coalesce(a.amount, 0) * a.e1h, 'user.amount24h', coalesce(a.amount, 0) * (a.e1h + x.x2 % 10),
       'user.amount7d', coalesce(a.amount, 0) * (a.e1h + x.x2 % 10 + x.x3 % 40)) || jsonb_build_object(
       'user.cards24h', CASE WHEN a.card IS NULL THEN 0 WHEN a.bad THEN 1 + x.x3 % 4 ELSE 1 END,
       'device.id', a.device, 'device.isNew', x.x6 % CASE WHEN a.bad THEN 4 ELSE 20 END = 0,
       'device.events1h', a.e1h, 'device.events24h', a.e1h + x.x3 % 8, 'device.events7d', a.e1h + x.x3 % 8 + x.x4 % 30,
       'device.accounts24h', CASE WHEN a.bad THEN 1 + x.x5 % 4 ELSE 1 END,
       'network.isNew', x.x5 % 15 = 0, 'ip.address', a.ip, 'ip.country', a.ip_country,
       'ip.events1h', a.e1h, 'ip.events24h', a.e1h + x.x4 % 12, 'ip.events7d', a.e1h + x.x4 % 12 + x.x1 % 50,
       'ip.accounts24h', CASE WHEN a.ip LIKE '203.%' THEN 2 + x.x1 % 10 ELSE 1 END,
       'card.fingerprint', a.card, 'card.country', p.card_country,
       'card.events1h', CASE WHEN a.card IS NOT NULL THEN a.e1h END, 'card.events24h', CASE WHEN a.card IS NOT NULL THEN a.e1h + x.x2 % 5 END,
       'card.events7d', CASE WHEN a.card IS NOT NULL THEN a.e1h + x.x2 % 5 + x.x3 % 20 END,
       'card.accounts7d', CASE WHEN a.card IS NOT NULL THEN 1 END,
       'payment.riskScore', p.risk,
       'recipient.id', ${userId('a.rn')},
       'recipient.ageDays', CASE WHEN a.rn IS NOT NULL THEN greatest(0, extract(epoch FROM a.at - ${createdAt('a.rn')}) / 86400) END,
       'recipient.sharesDevice', CASE WHEN a.rn IS NOT NULL THEN a.bad AND x.x1 % 2 = 0 END,
       'recipient.sharesIp', CASE WHEN a.rn IS NOT NULL THEN a.bad AND x.x2 % 2 = 0 END) AS features) f
    JOIN r ON r.t = a.type`;

async function seed(ds: DataSource, now: Date): Promise<void> {
  const [{ n: have }] = await queryRows<{ n: number }>(ds, `SELECT count(*)::int AS n FROM fraud_decisions`);
  if (have >= N) return console.log(`fraud_decisions already holds ${have} rows; reusing them`);
  let t = performance.now();
  await queryRows(
    ds,
    `INSERT INTO users (id, email, display_name, password_hash, roles, created_at, password_changed_at, updated_at)
     SELECT ${userId('i')}, ${email('i')}, 'Bench ' || i, '$argon2id$bench', '{buyer}', ${createdAt('i', '$2')}, $2, $2
       FROM generate_series(1, $1::int) i
     ON CONFLICT (email) DO NOTHING`,
    [USERS, now],
  );
  const chunk = 100_000;
  for (let from = have + 1; from <= N; from += chunk) {
    await queryRows(ds, EVENTS_SQL, [from, Math.min(N, from + chunk - 1), now, FRAUD_EVENT_TYPES, DAYS, USERS, N]);
    process.stdout.write(`\r${Math.min(N, from + chunk - 1)} events`);
  }
  // Most bad users, and a few ordinary ones, are labelled within the last 20 days.
  await queryRows(
    ds,
    `INSERT INTO fraud_labels (user_id, kind, reference, occurred_at)
     SELECT id, (ARRAY['chargeback', 'dispute_lost', 'confirmed_fraud', 'confirmed_takeover'])[1 + n / 40 % 4], 'bench:' || n,
            $1::timestamptz - (n % 20) * interval '1 day'
       FROM (SELECT id, substr(email, ${EMAIL_PREFIX.length + 1}, 8)::int AS n FROM users WHERE email LIKE '${EMAIL_PREFIX}%') x
      WHERE (n % 40 = 0 AND n % 400 <> 0) OR n % 333 = 7
     ON CONFLICT (reference) DO NOTHING`,
    [now],
  );
  await queryRows(
    ds,
    `INSERT INTO fraud_list_entries (id, list_type, value, reason, created_at)
     SELECT gen_random_uuid(), 'ip', '203.0.113.' || i, 'bench', $1::timestamptz FROM generate_series(0, 199, 3) i
     UNION ALL SELECT gen_random_uuid(), 'ip_cidr', '10.' || i || '.0.0/16', 'bench', $1::timestamptz FROM generate_series(0, 249, 50) i
     ON CONFLICT DO NOTHING`,
    [now],
  );
  console.log(`\nseeded ${N - have} events in ${fmt((performance.now() - t) / 1000, 1)} s`);
  t = performance.now();
  await queryRows(ds, 'VACUUM ANALYZE fraud_decisions');
  await queryRows(ds, 'VACUUM ANALYZE fraud_labels');
  console.log(`VACUUM ANALYZE in ${fmt((performance.now() - t) / 1000, 1)} s`);
}

const RULES: { name: string; rule: object }[] = [
  {
    name: 'simple: young account, large amount',
    rule: {
      eventTypes: [...FRAUD_EVENT_TYPES],
      condition: { and: [{ '<': [{ var: 'user.ageDays' }, 30] }, { '>': [{ var: 'event.amount' }, 5000] }] },
    },
  },
  {
    name: 'complex: listed IP or network, or risky card abroad, or a burst on a new device',
    rule: {
      eventTypes: [...FRAUD_EVENT_TYPES],
      condition: {
        or: [
          { in_list: ['ip', { var: 'ip.address' }] },
          { and: [{ in_list: ['ip_cidr', { var: 'ip.address' }] }, { var: 'device.isNew' }] },
          {
            and: [
              { '>=': [{ var: 'payment.riskScore' }, 50] },
              { '!==': [{ var: 'card.country' }, { var: 'ip.country' }] },
              { '!': [{ in: ['admin', { var: 'user.roles' }] }] },
            ],
          },
          { and: [{ var: 'device.isNew' }, { '>': [{ var: 'user.events1h' }, 4] }, { '>=': [{ var: 'device.accounts24h' }, 2] }] },
        ],
      },
    },
  },
];

async function main(): Promise<void> {
  await withSeededBenchApp('bt', seed, async ({ token, baseUrl }) => {
    const url = `${baseUrl}/admin/fraud/backtest`;
    const post = async (body: object) => {
      const res = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (res.status !== 200) throw new Error(`backtest answered ${res.status}: ${await res.text()}`);
      return (await res.json()) as Report;
    };
    console.log(`\n${N} events over ${DAYS} days, ${USERS} users; ${RUNS} runs per rule through POST /admin/fraud/backtest\n`);
    const rows: string[][] = [];
    for (const r of RULES) {
      const times: number[] = [];
      let report: Report | undefined;
      for (let i = 0; i < RUNS; i++) {
        const t = performance.now();
        report = await post({ rule: r.rule, days: DAYS });
        times.push((performance.now() - t) / 1000);
      }
      times.sort((a, b) => a - b);
      const best = times[0];
      const m = report!;
      rows.push([
        r.name,
        String(m.eventsScanned),
        String(m.matches),
        String(m.matchedUsers),
        `${m.badMatchedUsers}`,
        fmt(m.precision ?? NaN, 3),
        fmt(m.recall ?? NaN, 3),
        fmt(best),
        fmt(percentile(times, 50)),
        fmt(m.eventsScanned / best, 0),
      ]);
    }
    const header = ['rule', 'events', 'matches', 'users', 'bad', 'precision', 'recall', 'best s', 'median s', 'events/s (best)'];
    const widths = header.map((hd, i) => Math.max(hd.length, ...rows.map((r) => r[i].length)));
    const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join(' | ');
    console.log(line(header));
    console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
    rows.forEach((r) => console.log(line(r)));
  });
}

interface Report {
  eventsScanned: number;
  matches: number;
  matchedUsers: number;
  badMatchedUsers: number;
  precision: number | null;
  recall: number | null;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

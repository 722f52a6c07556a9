import type { Pool } from 'pg';
import { runCliProcess } from '../support/child-processes';
import type { Traffic } from './client';
import { accountKey, postedBalances, systemKey } from './ledger-state';
import type { Journal, Operation } from './workload';
import type { World } from './world';

/**
 * The bank test's verdict, after the quiescent period: the ledger's own invariants (every asset sums
 * to zero, no balance below zero where none may be, verify over HTTP and from the CLI), and the
 * journal against the database: every acknowledged request applied exactly once, every refused one
 * not at all, nothing applied that no client asked for, and every account where the acknowledged
 * operations say it must be from where it started (so every buyer paid exactly for what it owns).
 */
export interface CheckInput {
  db: Pool;
  databaseUrl: string;
  world: World;
  journal: Journal;
  traffic: Traffic;
  baseline: Baseline;
}

/** The state the workload starts from: every account's balance, and the purchases made in setup. */
export interface Baseline {
  balances: Map<string, bigint>;
  purchaseIds: string[];
}

/**
 * What the workload's requests may be refused with: a client buys what it owns already, or spends more
 * than it has; mark-paid takes no key, so a retry of one that was applied finds the order paid already.
 */
function expectedRefusal(answer: string): boolean {
  const code = answer.split(' ')[1];
  return (
    code === 'ALREADY_OWNED' ||
    code === 'INSUFFICIENT_FUNDS' ||
    answer === '409 INVALID_STATE POST /reseller-orders/:id/mark-paid (retried)'
  );
}

export async function checkBank(input: CheckInput): Promise<string[]> {
  const problems: string[] = [];
  problems.push(...(await ledgerInvariants(input)));
  problems.push(...(await exactlyOnce(input)));
  problems.push(...(await noPhantoms(input)));
  problems.push(...(await ownership(input)));
  problems.push(...(await balancesAsJournaled(input)));
  if (input.traffic.unknown > 0) problems.push(`${input.traffic.unknown} requests never got a definite answer`);
  for (const [answer, n] of input.traffic.rejections) {
    if (!expectedRefusal(answer))
      problems.push(`${n} requests answered ${answer}, which no client should get: ${input.traffic.examples.get(answer)}`);
  }
  return problems;
}

async function ledgerInvariants({ db, databaseUrl, world, traffic }: CheckInput): Promise<string[]> {
  const problems: string[] = [];
  const sums = (
    await db.query<{ asset: string; sum: string }>(
      `SELECT a.asset, sum(p.amount)::text AS sum FROM ledger_postings p JOIN ledger_accounts a ON a.id = p.account_id GROUP BY a.asset`,
    )
  ).rows;
  for (const s of sums) if (s.sum !== '0') problems.push(`asset ${s.asset} sums to ${s.sum}, not 0`);
  const negative = (
    await db.query<{ key: string; balance: string }>(
      `SELECT a.owner_id || '/' || a.asset || '/' || a.name AS key, sum(p.amount)::text AS balance
         FROM ledger_postings p JOIN ledger_accounts a ON a.id = p.account_id
        WHERE NOT a.allow_negative GROUP BY a.id HAVING sum(p.amount) < 0`,
    )
  ).rows;
  for (const n of negative) problems.push(`account ${n.key} is negative: ${n.balance}`);
  const verify = await traffic.send({ method: 'GET', path: '/admin/ledger/verify', token: world.admin.token });
  if (verify.status !== 200 || verify.body.ok !== true)
    problems.push(`GET /admin/ledger/verify: ${verify.status} ${JSON.stringify(verify.body)}`);
  const cli = await runCliProcess(['ledger', 'verify', '--json'], { DATABASE_URL: databaseUrl });
  if (cli.code !== 0) problems.push(`CLI ledger verify: exit ${cli.code}\n${cli.stdout}${cli.stderr}`);
  return problems;
}

/** The ledger references an operation's effects are recorded under, and whether each must be there. */
function effects(op: Operation): { reference: string; expected: number | 'either' }[] {
  const must = (a: { status: number }, ok: number) => (a.status === ok ? 1 : a.status === 0 ? 'either' : 0);
  switch (op.kind) {
    case 'order':
      return [{ reference: `order:${op.buyerId}:${op.key}`, expected: must(op.answer, 201) }];
    case 'gift':
      return [{ reference: `credit_transfer:${op.fromId}:${op.key}`, expected: must(op.answer, 201) }];
    case 'token_purchase':
      return op.answer.status === 201 ? [{ reference: `token_purchase:${op.answer.body.id}:mint`, expected: op.paid ? 1 : 0 }] : [];
    case 'reseller_order': {
      if (op.answer.status !== 201) return [];
      const id = op.answer.body.id as string;
      return [
        { reference: `reseller_order:${id}:escrow`, expected: 1 },
        { reference: `reseller_order:${id}:delivery`, expected: op.confirm ? must(op.confirm, 200) : 0 },
      ];
    }
  }
}

async function exactlyOnce({ db, journal }: CheckInput): Promise<string[]> {
  const wanted = journal.operations.flatMap(effects);
  const counts = new Map(
    (
      await db.query<{ reference: string; n: number }>(
        `SELECT reference, count(*)::int AS n FROM ledger_entries WHERE reference = ANY($1) GROUP BY reference`,
        [wanted.map((w) => w.reference)],
      )
    ).rows.map((r) => [r.reference, r.n]),
  );
  const problems: string[] = [];
  for (const w of wanted) {
    const n = counts.get(w.reference) ?? 0;
    if (w.expected === 'either' ? n > 1 : n !== w.expected)
      problems.push(`ledger entry ${w.reference}: ${n} times, expected ${w.expected}`);
  }
  return problems;
}

/** Rows no acknowledged request made: an order, gift, purchase or reseller order of our users that the journal does not hold as acknowledged. */
async function noPhantoms({ db, journal, world, baseline }: CheckInput): Promise<string[]> {
  const users = world.buyers.map((b) => b.id);
  const acked = (kind: Operation['kind']) =>
    new Set(journal.operations.filter((o) => o.kind === kind && o.answer.status >= 200 && o.answer.status < 300).map((o) => o.key));
  const unknown = new Set(journal.operations.filter((o) => o.answer.status === 0).map((o) => o.key));
  const tables: [Operation['kind'], string][] = [
    ['order', `SELECT idempotency_key AS key FROM orders WHERE buyer_id = ANY($1)`],
    ['gift', `SELECT idempotency_key AS key FROM credit_transfers WHERE from_user_id = ANY($1)`],
    ['token_purchase', `SELECT idempotency_key AS key FROM token_purchases WHERE user_id = ANY($1) AND NOT id = ANY($2)`],
    ['reseller_order', `SELECT o.id::text AS key FROM reseller_orders o WHERE buyer_id = ANY($1)`],
  ];
  const problems: string[] = [];
  for (const [kind, sql] of tables) {
    const rows = (await db.query<{ key: string }>(sql, kind === 'token_purchase' ? [users, baseline.purchaseIds] : [users])).rows;
    const expected =
      kind === 'reseller_order'
        ? new Set(journal.operations.filter((o) => o.kind === kind && o.answer.status === 201).map((o) => o.answer.body.id as string))
        : acked(kind);
    const seen = new Set<string>();
    for (const r of rows) {
      if (seen.has(r.key)) problems.push(`${kind} ${r.key} recorded twice`);
      seen.add(r.key);
      if (!expected.has(r.key) && !unknown.has(r.key))
        problems.push(`${kind} ${r.key} in the database, but no request for it was acknowledged`);
    }
    for (const k of expected) if (!seen.has(k)) problems.push(`${kind} ${k} acknowledged, but not in the database`);
  }
  return problems;
}

/** Each buyer owns exactly the items of its acknowledged orders, and its order entries took exactly their prices. */
async function ownership({ db, journal, world }: CheckInput): Promise<string[]> {
  const problems: string[] = [];
  const price = new Map(world.listings.map((l) => [l.id, BigInt(l.price)]));
  for (const b of world.buyers) {
    const orders = journal.operations.filter((o) => o.kind === 'order' && o.buyerId === b.id && o.answer.status === 201);
    const owned = (
      await db.query<{ listing_id: string }>(`SELECT listing_id FROM inventory WHERE owner_id = $1 AND revoked_at IS NULL`, [b.id])
    ).rows.map((r) => r.listing_id);
    const bought = orders.map((o) => (o as { listingId: string }).listingId);
    if ([...owned].sort().join() !== [...bought].sort().join()) problems.push(`buyer ${b.id} owns [${owned}] but bought [${bought}]`);
    const [paid] = (
      await db.query<{ sum: string }>(
        `SELECT coalesce(-sum(p.amount), 0)::text AS sum FROM ledger_postings p JOIN ledger_entries e ON e.id = p.entry_id
           JOIN ledger_accounts a ON a.id = p.account_id
          WHERE e.reference LIKE $1 AND a.owner_id = $2`,
        [`order:${b.id}:%`, b.id],
      )
    ).rows;
    const due = bought.reduce((s, l) => s + (price.get(l) ?? 0n), 0n);
    if (BigInt(paid.sum) !== due) problems.push(`buyer ${b.id} paid ${paid.sum} for its items, which cost ${due}`);
  }
  return problems;
}

/** Baseline + what every acknowledged operation moves = the balance now, for every account. */
async function balancesAsJournaled({ db, journal, world, baseline: { balances: baseline } }: CheckInput): Promise<string[]> {
  const delta = new Map<string, bigint>();
  const move = (key: string, amount: number | bigint) => delta.set(key, (delta.get(key) ?? 0n) + BigInt(amount));
  const wallet = (id: string) => accountKey(id, 'CREDIT', 'wallet');
  const listing = new Map(world.listings.map((l) => [l.id, l]));
  for (const op of journal.operations) {
    if (op.kind === 'order' && op.answer.status === 201) {
      const l = listing.get(op.listingId)!;
      move(wallet(op.buyerId), -l.price);
      move(accountKey(l.creatorId, 'CREDIT', 'earnings_pending'), l.profit);
      move(systemKey('CREDIT', 'platform_revenue'), l.platformFee);
    } else if (op.kind === 'gift' && op.answer.status === 201) {
      move(wallet(op.fromId), -op.amount);
      move(wallet(op.toId), op.amount);
    } else if (op.kind === 'token_purchase' && op.paid) {
      move(wallet(op.userId), world.packageCredits);
      move(systemKey('CREDIT', 'issuance'), -world.packageCredits);
    } else if (op.kind === 'reseller_order' && op.answer.status === 201) {
      move(accountKey(world.reseller.id, 'CREDIT', 'reseller_stock'), -op.amount);
      const delivered = op.confirm?.status === 200;
      move(delivered ? wallet(op.buyerId) : systemKey('CREDIT', 'escrow'), op.amount);
    }
  }
  const now = await postedBalances(db);
  const problems: string[] = [];
  for (const key of new Set([...now.keys(), ...baseline.keys()])) {
    const expected = (baseline.get(key) ?? 0n) + (delta.get(key) ?? 0n);
    const actual = now.get(key) ?? 0n;
    if (actual !== expected) problems.push(`account ${key}: ${actual}, expected ${expected} (${baseline.get(key) ?? 0n} at the start)`);
  }
  return problems;
}

import { randomUUID } from 'node:crypto';
import { Clock } from '../../src/common/clock.service';
import { DAY_MS, HOUR_MS } from '../../src/common/time';
import { TransactionRunner } from '../../src/database/transaction-runner';
import { FraudService } from '../../src/fraud/fraud.service';
import { LabelKind } from '../../src/fraud/fraud.types';
import { Actor, as, makeAdmin, signUp } from '../support/market-fixtures';
import { TestApp, useTestApp } from '../support/test-app';

/**
 * A history decided by the engine itself (FraudService.evaluate), then replayed: credit transfers of
 * five users, one of them 10 days before the others, and labels before and after the events.
 */
describe('POST /admin/fraud/backtest', () => {
  let t: TestApp;
  useTestApp((app) => (t = app));
  let admin: Actor;
  let buyer: Actor;
  const u: Record<'a' | 'b' | 'c' | 'd' | 'e' | 'f', Actor> = {} as never;
  const transferredAt: Record<string, Date> = {};

  const clock = () => t.app.get(Clock);
  const advance = (ms: number) => clock().advance(ms / 1000);
  const transfer = (from: Actor, amount: number) =>
    t.app.get(TransactionRunner).run(async (em) => {
      const d = await t.app
        .get(FraudService)
        .evaluate(em, { type: 'credit_transfer', userId: from.id, subjectId: randomUUID(), amount: BigInt(amount) });
      transferredAt[d.id] = d.createdAt;
      return d;
    });
  const label = (who: Actor, kind: LabelKind) =>
    t.app
      .get(TransactionRunner)
      .run((em) => t.app.get(FraudService).recordLabel(em, { userId: who.id, kind, reference: `test:${randomUUID()}` }));
  const backtest = (body: object, who: Actor = admin) => as(t, who).post('/admin/fraud/backtest', body);
  const over1000 = { eventTypes: ['credit_transfer'], condition: { '>': [{ var: 'event.amount' }, 1000] } };

  beforeAll(async () => {
    for (const k of ['a', 'b', 'c', 'e', 'f'] as const) u[k] = await signUp(t, k);
    await transfer(u.a, 5000); // 10 days before the window of 5 days
    await label(u.b, 'chargeback'); // before any of b's events: not "later"
    await advance(10 * DAY_MS);
    u.d = await signUp(t, 'd'); // a new account: the default rule reviews its gift over 50,000
    await transfer(u.a, 2000);
    await transfer(u.a, 100);
    await transfer(u.b, 3000);
    await transfer(u.c, 500);
    const review = await transfer(u.d, 60000);
    expect(review.outcome).toBe('REVIEW');
    await transfer(u.e, 100);
    await advance(HOUR_MS);
    await label(u.a, 'chargeback');
    await label(u.a, 'confirmed_fraud');
    await label(u.c, 'confirmed_fraud');
    await label(u.d, 'dispute_lost');
    await label(u.f, 'confirmed_takeover'); // no events: in no figure
    admin = await makeAdmin(t, await signUp(t, 'admin')); // signed in after the clock moved
    buyer = await signUp(t, 'buyer');
  });

  it('reports matches, matched users, precision and recall over the window, and how the events were decided', async () => {
    const res = await backtest({ rule: over1000, days: 5 }).expect(200);
    const none = { chargeback: 0, dispute_lost: 0, confirmed_takeover: 0, confirmed_fraud: 0 };
    expect(res.body).toMatchObject({
      rule: over1000,
      days: 5,
      eventsScanned: 6,
      users: 5, // a b c d e
      badUsers: 3, // a c d (b's label came first)
      matches: 3, // a's 2000, b's 3000, d's 60000
      matchedUsers: 3,
      badMatchedUsers: 2, // a d
      badMatchedByLabel: { ...none, chargeback: 1, confirmed_fraud: 1, dispute_lost: 1 },
      precision: 2 / 3,
      recall: 2 / 3,
      matchedOutcomes: { ALLOW: 2, REVIEW: 1, BLOCK: 0 },
      errors: { events: 0, first: null },
      actual: {
        outcomes: { ALLOW: 5, REVIEW: 1, BLOCK: 0 },
        flagged: { events: 1, users: 1, badUsers: 1, badUsersByLabel: { ...none, dispute_lost: 1 }, precision: 1, recall: 1 / 3 },
      },
    });
    expect(Date.parse(res.body.to) - Date.parse(res.body.from)).toBe(5 * DAY_MS);
    expect(res.body.sample.map((s: { userId: string; values: object }) => [s.userId, s.values])).toEqual([
      [u.d.id, { 'event.amount': 60000 }],
      [u.b.id, { 'event.amount': 3000 }],
      [u.a.id, { 'event.amount': 2000 }],
    ]);
    for (const s of res.body.sample) {
      expect(s).toEqual({
        id: expect.any(String),
        userId: s.userId,
        eventType: 'credit_transfer',
        createdAt: expect.any(String),
        outcome: s.outcome,
        values: s.values,
      });
      expect(Date.parse(s.createdAt)).toBe(transferredAt[s.id].getTime());
    }
    expect(res.body.sample[0].outcome).toBe('REVIEW');
  });

  it('reaches back as many days as asked: the older event counts then', async () => {
    const res = await backtest({ rule: over1000, days: 30 }).expect(200);
    expect(res.body).toMatchObject({ eventsScanned: 7, users: 5, badUsers: 3, matches: 4, matchedUsers: 3, badMatchedUsers: 2 });
    // only events of the rule's types are replayed
    const others = await backtest({ rule: { ...over1000, eventTypes: ['wholesale_purchase', 'token_purchase'] }, days: 30 }).expect(200);
    expect(others.body).toMatchObject({ eventsScanned: 0, matches: 0, matchedUsers: 0, precision: null, recall: null, sample: [] });
  });

  it('judges list membership against the lists as they are now', async () => {
    const now = clock().now();
    await t.sql(
      `INSERT INTO fraud_list_entries (id, list_type, value, reason, created_at, expires_at)
       VALUES ($1, 'user', $2, 'test', $4, NULL), ($3, 'user', $5, 'test', $4, $4)`,
      [randomUUID(), u.c.id, randomUUID(), now, u.e.id], // e's entry has expired
    );
    const rule = { eventTypes: ['credit_transfer'], condition: { in_list: ['user', { var: 'user.id' }] } };
    const res = await backtest({ rule, days: 5 }).expect(200);
    expect(res.body).toMatchObject({ matches: 1, matchedUsers: 1, badMatchedUsers: 1, precision: 1, recall: 1 / 3 });
    expect(res.body.sample).toMatchObject([{ userId: u.c.id, values: { 'user.id': u.c.id } }]);
  });

  it('replays more decisions than one fetch holds, repeated values and continuous ones alike', async () => {
    // Stored as the engine stores them: flat dotted features. event.amount: null when i % 3 = 0,
    // missing (decided before the feature existed) when i % 3 = 1.
    const n = 45_000;
    const ids = ['a', 'b', 'c', 'd', 'e'].map((k) => u[k as keyof typeof u].id);
    await t.sql(
      `INSERT INTO fraud_decisions (id, event_type, user_id, subject_id, ip, outcome, score, features, rules, created_at)
       SELECT gen_random_uuid(), 'reseller_order_open', ($1::uuid[])[1 + i % 5], 'o' || i, f.ip::inet, 'ALLOW', 0,
              jsonb_build_object('event.type', 'reseller_order_open', 'user.events1h', i % 7, 'user.ageDays', i, 'ip.address', f.ip)
                || CASE i % 3 WHEN 0 THEN jsonb_build_object('event.amount', NULL) WHEN 2 THEN jsonb_build_object('event.amount', i)
                   ELSE '{}' END,
              '[]', $2::timestamptz - i * interval '1 second'
         FROM generate_series(1, $3::int) i CROSS JOIN LATERAL (SELECT '10.0.' || (i % 250) || '.1' AS ip) f`,
      [ids, clock().now(), n],
    );
    await t.sql(
      `INSERT INTO fraud_list_entries (id, list_type, value, reason, created_at)
       VALUES ($1, 'ip', '10.0.7.1', 'test', $3), ($2, 'ip_cidr', '10.0.200.0/24', 'test', $3)`,
      [randomUUID(), randomUUID(), clock().now()],
    );
    const range = Array.from({ length: n }, (_, k) => k + 1);
    const count = (p: (i: number) => boolean) => range.filter(p).length;
    const cases: [object, number][] = [
      [{ '>': [{ var: 'user.events1h' }, 4] }, count((i) => i % 7 > 4)],
      [{ '<': [{ var: 'user.ageDays' }, 12345] }, 12344],
      [
        { or: [{ in_list: ['ip', { var: 'ip.address' }] }, { in_list: ['ip_cidr', { var: 'ip.address' }] }] },
        count((i) => [7, 200].includes(i % 250)),
      ],
      [{ '==': [{ var: ['event.amount', 7] }, 7] }, count((i) => i % 3 === 1)],
      [{ '===': [{ var: ['event.amount', 7] }, null] }, count((i) => i % 3 === 0)],
    ];
    for (const [condition, matches] of cases) {
      const res = await backtest({ rule: { eventTypes: ['reseller_order_open'], condition }, days: 1 }).expect(200);
      expect([condition, res.body.eventsScanned, res.body.matches, res.body.errors.events]).toEqual([condition, n, matches, 0]);
      expect(res.body.sample).toHaveLength(20);
    }
  });

  it('refuses a malformed rule with a 400 that names the problem', async () => {
    const unknown = await backtest({ rule: { eventTypes: ['login'], condition: { '<': [{ var: 'user.agedays' }, 7] } }, days: 7 }).expect(
      400,
    );
    expect(unknown.body.code).toBe('VALIDATION_FAILED');
    expect(unknown.body.detail).toContain('unknown variable "user.agedays"');
    expect(unknown.body.errors).toEqual([{ field: 'rule.condition', message: 'unknown variable "user.agedays"' }]);
    const op = await backtest({ rule: { eventTypes: ['login'], condition: { eval: ['1'] } }, days: 7 }).expect(400);
    expect(op.body.detail).toContain('unknown operator "eval"');
    for (const days of [0, 366, 1.5]) await backtest({ rule: over1000, days }).expect(400);
    await backtest({ rule: { ...over1000, eventTypes: ['refund'] }, days: 7 }).expect(400);
    await backtest({ rule: { ...over1000, eventTypes: [] }, days: 7 }).expect(400);
    await backtest({ rule: { eventTypes: ['login'] }, days: 7 }).expect(400);
  });

  it('is for admins only', async () => {
    await backtest({ rule: over1000, days: 5 }, buyer).expect(403);
    await t.http().post('/admin/fraud/backtest').send({ rule: over1000, days: 5 }).expect(401);
  });
});

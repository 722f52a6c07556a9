import { randomUUID } from 'node:crypto';
import { VELOCITY_SCAN_CAP } from '../../src/fraud/decisions.repository';
import { FraudEvent } from '../../src/fraud/fraud.types';
import { DAY, FraudEngine, fraudEngine, HOUR, MINUTE } from '../support/fraud-engine-fixtures';
import { TestApp, useTestApp } from '../support/test-app';

/** Rule modes, errors, scores, versions, review cases and the feature values, through FraudService.evaluate. */
describe('fraud engine: rules, decisions and features', () => {
  let t: TestApp, f: FraudEngine;
  useTestApp((app) => ((t = app), (f = fraudEngine(app))));
  const only = (userId: string) => ({ '==': [{ var: 'user.id' }, userId] });
  const item = (userId: string, over: Partial<FraudEvent> = {}): FraudEvent => ({
    type: 'item_purchase',
    userId,
    subjectId: randomUUID(),
    amount: 100n,
    ...over,
  });

  it('records a shadow rule that matched (matched=true) without ever enforcing it; a disabled rule is not evaluated', async () => {
    const [u] = await f.users(1);
    const shadow = await f.rule({ events: ['item_purchase'], condition: only(u), action: 'BLOCK', score: 100, mode: 'SHADOW' });
    const disabled = await f.rule({ events: ['item_purchase'], condition: only(u), action: 'BLOCK', mode: 'DISABLED' });
    const d = await f.evaluate(item(u));
    expect([d.outcome, d.score]).toEqual(['ALLOW', 0]);
    expect(d.rules.find((r) => r.ruleId === shadow.ruleId)).toMatchObject({ matched: true, mode: 'SHADOW', action: 'BLOCK', score: 100 });
    expect(d.rules.some((r) => r.ruleId === disabled.ruleId)).toBe(false);
    const row = await f.decisionRow(d.id);
    expect([row.outcome, row.matched_rule_ids]).toEqual(['ALLOW', [shadow.ruleId]]);
    expect(await f.reviewsOf(d.subjectId)).toEqual([]);
  });

  it('records a rule that throws on the decision, counts it in /metrics, and does not let it block', async () => {
    const [u, v] = await f.users(2);
    // refused by the validator now, but a stored condition can still throw: missing_some over null
    const broken = await f.rule({
      events: ['item_purchase'],
      condition: { and: [{ in: [{ var: 'user.id' }, [u, v]] }, { missing_some: [1, { var: 'recipient.id' }] }] },
      action: 'BLOCK',
      score: 100,
    });
    const before = await f.metric('fraud_rule_errors_total', `rule="${broken.name}"`);
    const allowedBefore = await f.metric('fraud_decisions_total', 'event="item_purchase",outcome="ALLOW"');
    const d = await f.evaluate(item(u));
    expect([d.outcome, d.score]).toEqual(['ALLOW', 0]);
    expect(d.rules.find((r) => r.ruleId === broken.ruleId)).toMatchObject({
      versionId: broken.versionId,
      matched: false,
      error: "Cannot read properties of null (reading 'length')",
    });
    expect((await f.decisionRow(d.id)).rules.find((r) => r.ruleId === broken.ruleId)?.error).toMatch(/Cannot read properties of null/);
    expect(await f.metric('fraud_rule_errors_total', `rule="${broken.name}"`)).toBe(before + 1);
    expect(await f.metric('fraud_decisions_total', 'event="item_purchase",outcome="ALLOW"')).toBe(allowedBefore + 1);
    // the other rules still decide: a listed user is blocked even with the broken rule throwing
    await f.list('user', v);
    expect(await f.outcome(item(v))).toEqual(['BLOCK', ['block-listed']]);
    expect(await f.metric('fraud_rule_errors_total', `rule="${broken.name}"`)).toBe(before + 2);
  });

  it('maps summed scores to REVIEW (30 + 20) and BLOCK (40 + 40); a REVIEW opens a case on the subject, a BLOCK none', async () => {
    const [r, b] = await f.users(2);
    await f.rule({ events: ['item_purchase'], condition: only(r), score: 30 });
    await f.rule({ events: ['item_purchase'], condition: only(r), score: 20 });
    await f.rule({ events: ['item_purchase'], condition: only(b), score: 40 });
    await f.rule({ events: ['item_purchase'], condition: only(b), score: 40 });
    const reviewed = await f.evaluate(item(r));
    expect([reviewed.outcome, reviewed.score]).toEqual(['REVIEW', 50]);
    expect(await f.reviewsOf(reviewed.subjectId)).toEqual([{ event_type: 'item_purchase', status: 'open', decision_id: reviewed.id }]);
    const blocked = await f.evaluate(item(b));
    expect([blocked.outcome, blocked.score]).toEqual(['BLOCK', 80]);
    expect(await f.reviewsOf(blocked.subjectId)).toEqual([]);
  });

  it('keeps old decisions explainable: each names the rule version it used, and versions are append-only', async () => {
    const [u] = await f.users(1);
    const v1 = await f.rule({ events: ['item_purchase'], condition: only(u), score: 10 });
    const first = await f.evaluate(item(u));
    const v2 = await f.rule({ ruleId: v1.ruleId, events: ['item_purchase'], condition: only(u), action: 'REVIEW', score: 10 });
    const second = await f.evaluate(item(u));
    const used = (rules: { ruleId: string; versionId: string; version: number }[]) =>
      rules.filter((r) => r.ruleId === v1.ruleId).map((r) => [r.versionId, r.version]);
    expect([first.outcome, used(first.rules)]).toEqual(['ALLOW', [[v1.versionId, 1]]]);
    expect([second.outcome, used(second.rules)]).toEqual(['REVIEW', [[v2.versionId, 2]]]);
    expect(used((await f.decisionRow(first.id)).rules)).toEqual([[v1.versionId, 1]]);
    const versions = await t.sql<{ id: string; version: number; action: string }>(
      `SELECT id, version, action FROM fraud_rule_versions WHERE rule_id = $1 ORDER BY version`,
      [v1.ruleId],
    );
    expect(versions).toEqual([
      { id: v1.versionId, version: 1, action: 'ALLOW' },
      { id: v2.versionId, version: 2, action: 'REVIEW' },
    ]);
    await expect(t.sql(`UPDATE fraud_rule_versions SET score = 0 WHERE id = $1`, [v1.versionId])).rejects.toThrow(/append-only/);
  });

  it('computes the velocity, sharing and label features documented in the catalog from a seeded history', async () => {
    const [u, v, w] = await f.users(3, 40 * DAY);
    const [ip, card, device] = [f.ip(), `fp_${randomUUID()}`, randomUUID()];
    await f.history([
      // u's item purchases: 10 min, 2 h, 3 d, 10 d (30-day median only) and 40 d (nothing) ago
      { userId: u, eventType: 'item_purchase', agoMs: 10 * MINUTE, amount: 100n, ip, deviceId: device },
      { userId: u, eventType: 'item_purchase', agoMs: 2 * HOUR, amount: 200n, ip },
      { userId: u, eventType: 'item_purchase', agoMs: 3 * DAY, amount: 300n, ip },
      { userId: u, eventType: 'item_purchase', agoMs: 10 * DAY, amount: 400n },
      { userId: u, eventType: 'item_purchase', agoMs: 40 * DAY, amount: 10_000n },
      // other event types count for the ip, device and card, not for u's item purchases
      { userId: u, eventType: 'credit_transfer', agoMs: 5 * MINUTE, amount: 999n, ip, deviceId: device },
      { userId: u, eventType: 'payment_succeeded', agoMs: 20 * HOUR, cardFingerprint: card, outcome: 'BLOCK' },
      { userId: u, eventType: 'token_purchase', agoMs: 100 * DAY, outcome: 'BLOCK' },
      // other users on the same ip, device and card
      { userId: v, eventType: 'login', agoMs: 30 * MINUTE, ip, deviceId: device },
      { userId: w, eventType: 'login', agoMs: 30 * HOUR, ip, deviceId: device },
      { userId: w, eventType: 'payment_succeeded', agoMs: 6 * DAY, cardFingerprint: card },
      { userId: v, eventType: 'payment_succeeded', agoMs: 8 * DAY, cardFingerprint: card },
    ]);
    await f.tx.run(async (em) => {
      await f.fraud.recordLabel(em, { userId: u, kind: 'chargeback', reference: `cb:${randomUUID()}` });
      await f.fraud.recordLabel(em, { userId: u, kind: 'chargeback', reference: `cb:${randomUUID()}` });
      await f.fraud.recordLabel(em, { userId: u, kind: 'dispute_lost', reference: `dl:${randomUUID()}` });
    });

    const d = await f.evaluate(item(u, { amount: 250n, ip }));
    const userFeatures = ['events', 'amount', 'cards24h', 'blocks90d', 'chargebacks', 'disputesLost', 'confirmedBad'].map(
      (n) => `user.${n}`,
    );
    expect(pick(d.features, ...userFeatures, 'event.amount', 'ip.')).toEqual({
      'event.amount': 250,
      'event.amountCents': null,
      'event.amountToMedian': 250 / 200, // the median of 100, 200, 300, 400 (percentile_disc)
      'user.events1h': 2,
      'user.events24h': 3,
      'user.events7d': 4,
      'user.amount1h': 350,
      'user.amount24h': 550,
      'user.amount7d': 850,
      'user.cards24h': 0,
      'user.blocks90d': 1,
      'user.chargebacks': 2,
      'user.disputesLost': 1,
      'user.confirmedBad': false,
      'ip.address': ip,
      'ip.country': null,
      'ip.events1h': 4, // u's item and transfer, v's login, and this one
      'ip.events24h': 5,
      'ip.events7d': 7,
      'ip.accounts24h': 2, // u and v; w's login is 30 h old
    });

    const login = await f.evaluate({
      type: 'login',
      userId: u,
      subjectId: u,
      login: { deviceIsNew: false, networkIsNew: false, deviceId: device },
    });
    expect(pick(login.features, 'device.')).toEqual({
      'device.id': device,
      'device.isNew': false,
      'device.events1h': 4,
      'device.events24h': 4,
      'device.events7d': 5,
      'device.accounts24h': 2,
    });

    const paid = await f.evaluate({
      type: 'payment_succeeded',
      userId: u,
      subjectId: randomUUID(),
      card: { fingerprint: card, country: 'DE' },
    });
    expect(pick(paid.features, 'card.', 'user.cards24h', 'user.events')).toEqual({
      'card.fingerprint': card,
      'card.country': 'DE',
      'card.events1h': 1,
      'card.events24h': 2,
      'card.events7d': 3,
      'card.accounts7d': 2, // u and w; v paid 8 days ago
      'user.cards24h': 1,
      'user.events1h': 1,
      'user.events24h': 2,
      'user.events7d': 2,
    });

    await f.tx.run((em) => f.fraud.recordLabel(em, { userId: u, kind: 'confirmed_fraud', reference: `cf:${randomUUID()}` }));
    const [fresh] = await f.users(1);
    const first = await f.evaluate(item(fresh, { amount: 70n }));
    expect(
      pick(first.features, 'user.confirmedBad', 'event.amountToMedian', 'user.events7d', 'user.blocks90d', 'device.', 'ip.events'),
    ).toEqual({
      'user.confirmedBad': false,
      'event.amountToMedian': null,
      'user.events7d': 1,
      'user.blocks90d': 0,
      'device.id': null,
      'device.isNew': false,
      'device.events1h': null,
      'device.events24h': null,
      'device.events7d': null,
      'device.accounts24h': null,
      'ip.events1h': null,
      'ip.events24h': null,
      'ip.events7d': null,
    });
    expect((await f.evaluate(item(u))).features['user.confirmedBad']).toBe(true);
  });

  it(`saturates the counts at the ${VELOCITY_SCAN_CAP} most recent stored decisions (plus the event itself)`, async () => {
    const [u] = await f.users(1);
    const ip = f.ip();
    await f.history(
      Array.from({ length: VELOCITY_SCAN_CAP + 50 }, (_, i) => ({ userId: u, eventType: 'login' as const, agoMs: (i + 1) * 1000, ip })),
    );
    const d = await f.evaluate({ type: 'login', userId: u, subjectId: u, ip });
    expect(pick(d.features, 'ip.events', 'user.events')).toEqual({
      'ip.events1h': VELOCITY_SCAN_CAP + 1,
      'ip.events24h': VELOCITY_SCAN_CAP + 1,
      'ip.events7d': VELOCITY_SCAN_CAP + 1,
      'user.events1h': VELOCITY_SCAN_CAP + 1,
      'user.events24h': VELOCITY_SCAN_CAP + 1,
      'user.events7d': VELOCITY_SCAN_CAP + 1,
    });
  });
});

describe('fraud engine: FRAUD_EVALUATION=false', () => {
  let t: TestApp, f: FraudEngine;
  useTestApp((app) => ((t = app), (f = fraudEngine(app))), { FRAUD_EVALUATION: 'false' });

  it('allows every event without recording anything', async () => {
    const [u] = await f.users(1);
    await f.list('user', u);
    const d = await f.evaluate({ type: 'token_purchase', userId: u, subjectId: randomUUID(), amount: 1n });
    expect([d.outcome, d.rules, d.features]).toEqual(['ALLOW', [], {}]);
    expect(await t.sql(`SELECT id FROM fraud_decisions`)).toEqual([]);
  });
});

/** The features whose names start with one of `prefixes`. */
function pick(features: Record<string, unknown>, ...prefixes: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(features).filter(([name]) => prefixes.some((p) => name.startsWith(p))));
}

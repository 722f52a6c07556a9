import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { QueryRunner } from 'typeorm';
import { Fraud1763900014000 } from '../../migrations/1763900014000-Fraud';
import { FEATURE_CATALOG } from './feature-catalog';
import { FeatureValues } from './fraud.types';
import { conditionHolds, conditionVariables, listProbes, membershipKey, ruleData, validateCondition } from './rule-condition';

const messages = (condition: unknown) => validateCondition(condition).map((e) => e.message);

/** Every catalog feature at its "nothing known" value (null, false, 0), then `over`. */
function features(over: FeatureValues = {}): FeatureValues {
  const base: FeatureValues = {};
  for (const f of FEATURE_CATALOG) {
    base[f.name] = f.nullable ? null : f.type === 'boolean' ? false : f.type === 'number' ? 0 : f.type === 'string[]' ? [] : '';
  }
  return { ...base, 'user.id': 'u1', 'event.type': 'credit_transfer', ...over };
}

const holds = (condition: unknown, over: FeatureValues = {}, members: [string, string][] = []) =>
  conditionHolds(condition, ruleData(features(over), new Set(members.map(([t, v]) => membershipKey(t, v)))));

/** The default rules exactly as migration 1763900014000 installs them (its INSERT parameters). */
async function defaultRules(): Promise<Map<string, { condition: unknown; events: string[]; action: string }>> {
  const rules = new Map<string, { condition: unknown; events: string[]; action: string }>();
  const q = {
    query: async (sql: string, params?: unknown[]) => {
      if (sql.includes('INSERT INTO fraud_rule_versions') && params) {
        rules.set(params[2] as string, {
          events: params[4] as string[],
          condition: JSON.parse(params[5] as string),
          action: params[6] as string,
        });
      }
      return [];
    },
  } as unknown as QueryRunner;
  await new Fraud1763900014000().up(q);
  return rules;
}

describe('validateCondition', () => {
  it('accepts the conditions of the language (API.md)', () => {
    expect(validateCondition({ and: [{ '>': [{ var: 'event.amount' }, 50000] }, { '<': [{ var: 'user.ageDays' }, 7] }] })).toEqual([]);
    expect(validateCondition({ in_list: ['ip_cidr', { var: 'ip.address' }] })).toEqual([]);
    expect(validateCondition({ in: ['admin', { var: 'user.roles' }] })).toEqual([]);
    expect(validateCondition({ '==': [{ var: ['card.country', 'XX'] }, 'DE'] })).toEqual([]);
    expect(validateCondition({ missing: ['card.country', 'ip.country'] })).toEqual([]);
    expect(validateCondition({ missing_some: [1, ['card.country', 'ip.country']] })).toEqual([]);
  });

  it('names an unknown variable, wherever it is', () => {
    expect(messages({ '>': [{ var: 'user.age' }, 3] })).toEqual(['unknown variable "user.age"']);
    expect(messages({ or: [true, { and: [{ '!': { var: ['user.nope'] } }] }] })).toEqual(['unknown variable "user.nope"']);
    expect(messages({ in_list: ['ip', { var: 'ip.addr' }] })).toEqual(['unknown variable "ip.addr"']);
    expect(messages({ missing: ['user.secret'] })).toEqual(['unknown variable "user.secret"']);
    expect(messages({ missing_some: [1, ['user.id', 'user.secret']] })).toEqual(['unknown variable "user.secret"']);
  });

  it('names an unknown operator (and refuses the iterating ones and log)', () => {
    expect(messages({ regex: [{ var: 'user.email' }, '.*'] })).toEqual(['unknown operator "regex"']);
    for (const op of ['map', 'filter', 'reduce', 'all', 'some', 'none', 'log', 'method']) {
      expect(messages({ [op]: [[1], true] })).toEqual([`unknown operator "${op}"`]);
    }
  });

  it('refuses in_list with an unknown list type, or without exactly [type, value]', () => {
    expect(messages({ in_list: ['phone', { var: 'user.id' }] })[0]).toMatch(/^unknown list type "phone" \(one of email, email_domain, ip/);
    expect(messages({ in_list: [{ var: 'event.type' }, { var: 'user.id' }] })[0]).toMatch(/^unknown list type \{"var":"event.type"\}/);
    expect(messages({ in_list: ['ip'] })).toEqual(['"in_list" takes [list type, value]']);
  });

  it('refuses a variable named by anything but a literal string, and a computed default', () => {
    expect(messages({ var: { cat: ['user.', 'id'] } })).toEqual(['"var" must name a feature with a literal string']);
    expect(messages({ var: [{ var: 'event.type' }] })).toEqual(['"var" must name a feature with a literal string']);
    expect(messages({ var: '' })).toEqual(['unknown variable ""']);
    expect(messages({ var: ['user.id', { var: 'user.email' }] })).toEqual(['the default of "var" must be a literal']);
    expect(messages({ var: ['user.id', 1, 2] })).toEqual(['"var" takes a name and an optional default']);
  });

  it('refuses missing / missing_some over anything but literal names (json-logic-js throws on the latter)', () => {
    expect(messages({ missing: { var: 'user.email' } })).toEqual(['"missing" takes literal feature names']);
    expect(messages({ missing_some: [1, { var: 'user.email' }] })).toEqual(['"missing_some" takes [a number, [literal feature names]]']);
    expect(messages({ missing_some: [1, null] })).toEqual(['"missing_some" takes [a number, [literal feature names]]']);
    // what the validator keeps out: this throws in json-logic-js
    expect(() => holds({ missing_some: [1, null] })).toThrow(/Cannot read properties of null/);
  });

  it('refuses conditions nested too deep or with too many nodes', () => {
    let deep: unknown = true;
    for (let i = 0; i < 30; i++) deep = { '!': [deep] };
    expect(messages(deep)).toContain('is nested deeper than 24 levels');
    let ok: unknown = true;
    for (let i = 0; i < 11; i++) ok = { '!': [ok] }; // 22 levels: an operation and its argument array each count
    expect(validateCondition(ok)).toEqual([]);
    const wide = { or: Array.from({ length: 600 }, () => ({ '==': [1, 1] })) };
    expect(messages(wide)).toEqual(['has more than 1000 nodes']);
  });

  it('refuses a condition that is not one operation', () => {
    for (const c of [true, 1, 'x', null, [{ '==': [1, 1] }]]) {
      expect(messages(c)).toEqual(['must be a JsonLogic operation (an object with one operator)']);
    }
    expect(messages({})).toEqual(['an operation must have exactly one operator, found []']);
    expect(messages({ '==': [1, 1], '!=': [1, 2] })).toEqual(['an operation must have exactly one operator, found ["==","!="]']);
  });
});

describe('conditionVariables, ruleData, listProbes', () => {
  it('lists the features a condition reads, once each', () => {
    const c = {
      and: [
        { '>': [{ var: 'event.amount' }, 1] },
        { in_list: ['ip', { var: 'ip.address' }] },
        { '<': [{ var: ['event.amount', 0] }, 9] },
        { missing: ['card.country'] },
        { missing_some: [1, ['ip.country']] },
      ],
    };
    expect(conditionVariables(c).sort()).toEqual(['card.country', 'event.amount', 'ip.address', 'ip.country']);
  });

  it('nests the dotted feature names as var walks them', () => {
    const data = ruleData({
      'user.id': 'u',
      'user.ageDays': 2.5,
      'event.amount': 5,
      'event.amountToMedian': null,
      'user.roles': ['buyer'],
    });
    expect(data).toEqual({ user: { id: 'u', ageDays: 2.5, roles: ['buyer'] }, event: { amount: 5, amountToMedian: null } });
    expect(conditionHolds({ '==': [{ var: 'user.ageDays' }, 2.5] }, data)).toBe(true);
    expect(conditionHolds({ in: ['buyer', { var: 'user.roles' }] }, data)).toBe(true);
  });

  it('probes the lists a condition consults with the evaluated values, skipping empty ones', () => {
    const c = { or: [{ in_list: ['ip', { var: 'ip.address' }] }, { in_list: ['email_domain', { var: 'user.emailDomain' }] }] };
    expect(listProbes(c, ruleData(features({ 'ip.address': '10.0.0.1' })))).toEqual([{ type: 'ip', value: '10.0.0.1' }]);
    expect(listProbes(c, ruleData(features({ 'ip.address': '', 'user.emailDomain': 'x.com' })))).toEqual([
      { type: 'email_domain', value: 'x.com' },
    ]);
  });

  it('in_list holds only for a (type, value) the lists matched', () => {
    const c = { in_list: ['ip', { var: 'ip.address' }] };
    expect(holds(c, { 'ip.address': '10.0.0.1' }, [['ip', '10.0.0.1']])).toBe(true);
    expect(holds(c, { 'ip.address': '10.0.0.1' }, [['ip_cidr', '10.0.0.1']])).toBe(false);
    expect(holds(c, { 'ip.address': '10.0.0.2' }, [['ip', '10.0.0.1']])).toBe(false);
    expect(holds(c, { 'ip.address': null }, [['ip', 'null']])).toBe(false);
    expect(conditionHolds(c, ruleData(features({ 'ip.address': '10.0.0.1' })))).toBe(false); // no membership given
  });
});

describe('JsonLogic null semantics (json-logic-js)', () => {
  // A missing feature is null, and JavaScript compares null as 0: a rule must guard before "<" or "<=".
  it.each([
    [{ '<=': [null, 60] }, true],
    [{ '<': [null, 1] }, true],
    [{ '>=': [null, 0] }, true],
    [{ '>=': [null, 65] }, false],
    [{ '>': [null, 5] }, false],
    [{ '==': [null, 0] }, false],
    [{ '!==': [null, null] }, false],
    [{ '!=': ['DE', null] }, true],
    [{ '==': [false, 0] }, true],
    [{ '!': [[]] }, true],
  ])('%j is %s', (condition, expected) => expect(conditionHolds(condition, {})).toBe(expected));

  it('reads a feature that is null as null, not as its var default', () => {
    expect(conditionHolds({ '==': [{ var: ['card.country', 'XX'] }, null] }, ruleData(features()))).toBe(true);
  });
});

describe('the default rules (migration 1763900014000), as data', () => {
  let rules: Map<string, { condition: unknown; events: string[]; action: string }>;
  const rule = (name: string) => rules.get(name)!.condition;
  beforeAll(async () => (rules = await defaultRules()));

  it('are nine valid conditions', () => {
    expect(rules.size).toBe(9);
    for (const [name, r] of rules) expect([name, validateCondition(r.condition)]).toEqual([name, []]);
  });

  it('block-listed: any listed user, email, domain, ip, network, device or card', () => {
    const c = rule('block-listed');
    const f = {
      'user.id': 'u1',
      'user.email': 'a@b.com',
      'user.emailDomain': 'b.com',
      'ip.address': '10.1.2.3',
      'device.id': 'd1',
      'card.fingerprint': 'fp1',
    };
    expect(holds(c, f)).toBe(false);
    for (const [type, value] of [
      ['user', 'u1'],
      ['email', 'a@b.com'],
      ['email_domain', 'b.com'],
      ['ip', '10.1.2.3'],
      ['ip_cidr', '10.1.2.3'],
      ['device', 'd1'],
      ['card_fingerprint', 'fp1'],
    ]) {
      expect([type, holds(c, f, [[type, value]])]).toEqual([type, true]);
    }
    expect(listProbes(c, ruleData(features(f))).map((p) => p.type)).toEqual([
      'user',
      'email',
      'email_domain',
      'ip',
      'ip_cidr',
      'device',
      'card_fingerprint',
    ]);
  });

  it('large-gift-from-young-account: over 50,000 from an account under 7 days', () => {
    const c = rule('large-gift-from-young-account');
    expect(holds(c, { 'event.amount': 50001, 'user.ageDays': 6.99 })).toBe(true);
    expect(holds(c, { 'event.amount': 50000, 'user.ageDays': 6.99 })).toBe(false);
    expect(holds(c, { 'event.amount': 50001, 'user.ageDays': 7 })).toBe(false);
    expect(holds(c, { 'event.amount': null, 'user.ageDays': 0 })).toBe(false);
  });

  it('gift-to-new-linked-account: a recipient under a day old sharing a device or an IP; no recipient, no match', () => {
    const c = rule('gift-to-new-linked-account');
    const young = { 'recipient.id': 'r1', 'recipient.ageDays': 0.5 };
    expect(holds(c, { ...young, 'recipient.sharesDevice': true, 'recipient.sharesIp': false })).toBe(true);
    expect(holds(c, { ...young, 'recipient.sharesDevice': false, 'recipient.sharesIp': true })).toBe(true);
    expect(holds(c, { ...young, 'recipient.sharesDevice': false, 'recipient.sharesIp': false })).toBe(false);
    expect(holds(c, { ...young, 'recipient.ageDays': 1, 'recipient.sharesIp': true })).toBe(false);
    // null < 1 is true in JsonLogic: the null guard is what keeps an event without a known recipient out
    expect(holds(c, { 'recipient.id': null, 'recipient.ageDays': null, 'recipient.sharesIp': true })).toBe(false);
    expect(holds(c, { 'recipient.id': 'r1', 'recipient.ageDays': null, 'recipient.sharesIp': true })).toBe(false);
  });

  it('token-purchase-velocity: more than 5 an hour (the count includes this one)', () => {
    const c = rule('token-purchase-velocity');
    expect(holds(c, { 'user.events1h': 5 })).toBe(false);
    expect(holds(c, { 'user.events1h': 6 })).toBe(true);
  });

  it('many-cards-per-day: more than 3 distinct cards in 24 h', () => {
    const c = rule('many-cards-per-day');
    expect(holds(c, { 'user.cards24h': 3 })).toBe(false);
    expect(holds(c, { 'user.cards24h': 4 })).toBe(true);
  });

  it('card-country-differs-from-ip: both known and different', () => {
    const c = rule('card-country-differs-from-ip');
    expect(holds(c, { 'card.country': 'FR', 'ip.country': 'DE' })).toBe(true);
    expect(holds(c, { 'card.country': 'DE', 'ip.country': 'DE' })).toBe(false);
    expect(holds(c, { 'card.country': null, 'ip.country': 'DE' })).toBe(false);
    expect(holds(c, { 'card.country': 'FR', 'ip.country': null })).toBe(false);
  });

  it('stripe-risk-elevated and stripe-risk-high: 65-74 reviewed, 75 and over blocked, no score no match', () => {
    const elevated = rule('stripe-risk-elevated');
    const high = rule('stripe-risk-high');
    const at = (score: number | null) => [holds(elevated, { 'payment.riskScore': score }), holds(high, { 'payment.riskScore': score })];
    expect(at(64)).toEqual([false, false]);
    expect(at(65)).toEqual([true, false]);
    expect(at(74)).toEqual([true, false]);
    expect(at(75)).toEqual([false, true]);
    expect(at(99)).toEqual([false, true]);
    expect(at(null)).toEqual([false, false]);
    expect(at(0)).toEqual([false, false]);
  });

  it('new-device-and-network-after-reset: both new, within 60 minutes of a reset; never reset, no match', () => {
    const c = rule('new-device-and-network-after-reset');
    const fresh = { 'device.isNew': true, 'network.isNew': true };
    expect(holds(c, { ...fresh, 'user.minutesSincePasswordReset': 60 })).toBe(true);
    expect(holds(c, { ...fresh, 'user.minutesSincePasswordReset': 0 })).toBe(true);
    expect(holds(c, { ...fresh, 'user.minutesSincePasswordReset': 60.01 })).toBe(false);
    // {"<=": [null, 60]} alone would hold: the "!== null" guard keeps accounts never reset out
    expect(holds(c, { ...fresh, 'user.minutesSincePasswordReset': null })).toBe(false);
    expect(holds(c, { 'device.isNew': true, 'network.isNew': false, 'user.minutesSincePasswordReset': 5 })).toBe(false);
    expect(holds(c, { 'device.isNew': false, 'network.isNew': true, 'user.minutesSincePasswordReset': 5 })).toBe(false);
  });

  it('are each documented in docs/fraud.md with their action and exact condition', () => {
    const doc = readFileSync(join(__dirname, '../../docs/fraud.md'), 'utf8');
    const documented = new Map(
      [...doc.matchAll(/^### `([a-z0-9-]+)` \((ALLOW|REVIEW|BLOCK)[^)]*\)\n+```json\n([\s\S]*?)\n```/gm)].map((m) => [
        m[1],
        { action: m[2], condition: JSON.parse(m[3]) as unknown },
      ]),
    );
    expect(Object.fromEntries(documented)).toEqual(
      Object.fromEntries([...rules].map(([name, r]) => [name, { action: r.action, condition: r.condition }])),
    );
  });

  it('each names the event types the issue gives it', () => {
    const events = Object.fromEntries([...rules].map(([name, r]) => [name, [r.action, r.events.length === 10 ? 'all' : r.events]]));
    expect(events).toEqual({
      'block-listed': ['BLOCK', 'all'],
      'large-gift-from-young-account': ['REVIEW', ['credit_transfer']],
      'gift-to-new-linked-account': ['REVIEW', ['credit_transfer', 'item_purchase']],
      'token-purchase-velocity': ['BLOCK', ['token_purchase']],
      'many-cards-per-day': ['BLOCK', ['payment_succeeded']],
      'card-country-differs-from-ip': ['REVIEW', ['payment_succeeded']],
      'stripe-risk-elevated': ['REVIEW', ['payment_succeeded']],
      'stripe-risk-high': ['BLOCK', ['payment_succeeded']],
      'new-device-and-network-after-reset': ['REVIEW', ['login']],
    });
  });
});

import { randomUUID } from 'node:crypto';
import { FraudErrors } from '../../src/fraud/fraud.errors';
import { FraudEvent } from '../../src/fraud/fraud.types';
import { DAY, FraudEngine, fraudEngine, HOUR, MINUTE } from '../support/fraud-engine-fixtures';
import { lastMail } from '../support/auth';
import { signUp } from '../support/market-fixtures';
import { TestApp, useTestApp } from '../support/test-app';

/**
 * The fraud engine through FraudService.evaluate, in a transaction as its callers run it, against the
 * default rules the migration installs. The business clock only moves forward: each test uses users,
 * addresses, devices and cards of its own.
 */
describe('fraud engine: the default rules at their boundaries', () => {
  let t: TestApp, f: FraudEngine;
  useTestApp((app) => ((t = app), (f = fraudEngine(app))));
  const subject = () => randomUUID();
  const purchase = (userId: string, over: Partial<FraudEvent> = {}): FraudEvent => ({
    type: 'token_purchase',
    userId,
    subjectId: subject(),
    amount: 1000n,
    ...over,
  });
  const payment = (userId: string, over: Partial<FraudEvent> = {}): FraudEvent => ({
    type: 'payment_succeeded',
    userId,
    subjectId: subject(),
    amountCents: 999n,
    card: { fingerprint: `fp_${randomUUID().slice(0, 12)}`, country: null },
    riskScore: null,
    ...over,
  });

  describe('block-listed', () => {
    it('blocks a listed user, email, ip, device and card on any event type, and nothing else', async () => {
      const [listed, other] = await f.users(2);
      const [{ email }] = await t.sql<{ email: string }>(`SELECT email::text FROM users WHERE id = $1`, [other]);
      const ip = f.ip();
      const device = randomUUID();
      const card = 'fp_listed_card';
      await f.list('user', listed);
      await f.list('email', email);
      await f.list('ip', ip);
      await f.list('device', device);
      await f.list('card_fingerprint', card);
      const [clean] = await f.users(1);

      expect(await f.outcome(purchase(listed))).toEqual(['BLOCK', ['block-listed']]);
      expect(await f.outcome({ type: 'item_purchase', userId: other, subjectId: subject(), amount: 5n })).toEqual([
        'BLOCK',
        ['block-listed'],
      ]);
      expect(await f.outcome(purchase(clean, { ip }))).toEqual(['BLOCK', ['block-listed']]);
      const login = { deviceIsNew: false, networkIsNew: false, deviceId: device };
      expect(await f.outcome({ type: 'login', userId: clean, subjectId: clean, login })).toEqual(['BLOCK', ['block-listed']]);
      expect(await f.outcome(payment(clean, { card: { fingerprint: card, country: null } }))).toEqual(['BLOCK', ['block-listed']]);

      expect(await f.outcome(purchase(clean, { ip: f.ip() }))).toEqual(['ALLOW', []]);
      expect(await f.outcome({ type: 'login', userId: clean, subjectId: clean, login: { ...login, deviceId: randomUUID() } })).toEqual([
        'ALLOW',
        [],
      ]);
    });

    it('blocks a sign-up from a listed email domain (the account does not exist yet)', async () => {
      const domain = `spam-${randomUUID().slice(0, 8)}.test`;
      await f.list('email_domain', domain);
      const signup = (email: string): FraudEvent => ({ type: 'signup', userId: randomUUID(), subjectId: randomUUID(), email });
      expect(await f.outcome(signup(`Someone@${domain.toUpperCase()}`))).toEqual(['BLOCK', ['block-listed']]);
      expect(await f.outcome(signup(`someone@not-${domain}`))).toEqual(['ALLOW', []]);
    });

    it('blocks addresses inside a listed IPv4 or IPv6 network (ip_cidr), not beside it', async () => {
      const [u] = await f.users(1);
      await f.list('ip_cidr', '198.51.100.0/24');
      await f.list('ip_cidr', '2001:db8:abcd::/48');
      expect(await f.outcome(purchase(u, { ip: '198.51.100.77' }))).toEqual(['BLOCK', ['block-listed']]);
      expect(await f.outcome(purchase(u, { ip: '2001:db8:abcd:12::1' }))).toEqual(['BLOCK', ['block-listed']]);
      expect(await f.outcome(purchase(u, { ip: '198.51.101.1' }))).toEqual(['ALLOW', []]);
      expect(await f.outcome(purchase(u, { ip: '2001:db8:abce::1' }))).toEqual(['ALLOW', []]);
    });

    it('stops matching once an entry expires or is removed', async () => {
      const [u, v] = await f.users(2);
      await f.list('user', u, { expiresAt: f.clock.in(10 * 60) });
      await f.list('user', v, { removed: true });
      expect(await f.outcome(purchase(u))).toEqual(['BLOCK', ['block-listed']]);
      expect(await f.outcome(purchase(v))).toEqual(['ALLOW', []]);
      await f.clock.advance(11 * 60);
      expect(await f.outcome(purchase(u))).toEqual(['ALLOW', []]);
    });

    it('survives a rule probing ip_cidr with a value that is no address', async () => {
      const [u] = await f.users(1);
      await f.rule({
        events: ['payment_succeeded'],
        condition: { or: [{ in_list: ['ip_cidr', { var: 'card.fingerprint' }] }, { in_list: ['ip_cidr', { var: 'event.amountCents' }] }] },
        action: 'BLOCK',
      });
      expect(await f.outcome(payment(u, { card: { fingerprint: 'abc123', country: null } }))).toEqual(['ALLOW', []]);
    });
  });

  describe('token-purchase-velocity', () => {
    it('blocks the 6th token purchase of the hour (counts include the event), and older ones drop out', async () => {
      const [u] = await f.users(1);
      for (let i = 1; i <= 3; i++) expect((await f.evaluate(purchase(u))).features['user.events1h']).toBe(i);
      await f.clock.advance(40 * 60);
      expect(await f.outcome(purchase(u))).toEqual(['ALLOW', []]); // 4
      expect(await f.outcome(purchase(u))).toEqual(['ALLOW', []]); // 5
      await f.clock.advance(21 * 60); // the first three are 61 minutes old
      const d = await f.evaluate(purchase(u));
      expect([d.outcome, d.features['user.events1h'], d.features['user.events24h']]).toEqual(['ALLOW', 3, 6]);
      expect(await f.outcome(purchase(u))).toEqual(['ALLOW', []]); // 4
      expect(await f.outcome(purchase(u))).toEqual(['ALLOW', []]); // 5
      expect(await f.outcome(purchase(u))).toEqual(['BLOCK', ['token-purchase-velocity']]); // 6
      // other event types do not count towards it
      const [w] = await f.users(1);
      for (let i = 0; i < 6; i++) await f.evaluate({ type: 'item_purchase', userId: w, subjectId: subject(), amount: 1n });
      expect(await f.outcome(purchase(w))).toEqual(['ALLOW', []]);
    });
  });

  describe('many-cards-per-day', () => {
    it('blocks a 4th distinct card within 24 h; a card used again is not new; a day later they drop out', async () => {
      const [u] = await f.users(1);
      const card = (fp: string) => payment(u, { card: { fingerprint: `${u}-${fp}`, country: null } });
      expect(await f.outcome(card('c1'))).toEqual(['ALLOW', []]);
      expect(await f.outcome(card('c2'))).toEqual(['ALLOW', []]);
      expect(await f.outcome(card('c3'))).toEqual(['ALLOW', []]);
      const again = await f.evaluate(card('c1'));
      expect([again.outcome, again.features['user.cards24h']]).toEqual(['ALLOW', 3]);
      expect(await f.outcome(card('c4'))).toEqual(['BLOCK', ['many-cards-per-day']]);
      await f.clock.advance(24 * 3600 + 60);
      const later = await f.evaluate(card('c5'));
      expect([later.outcome, later.features['user.cards24h']]).toEqual(['ALLOW', 1]);
    });
  });

  describe('card-country-differs-from-ip', () => {
    it("reviews a card from another country than the purchase request's IP, and never when either is unknown", async () => {
      const [u] = await f.users(1);
      const ip = f.ip();
      // payment_succeeded is a webhook: its IP and country are those of the token_purchase it follows
      const bought = async (ipCountry: string | null) => {
        const p = purchase(u, { ip, ipCountry });
        await f.evaluate(p);
        return p.subjectId;
      };
      const paid = async (subjectId: string, country: string | null) => {
        const d = await f.evaluate(payment(u, { subjectId, followsFrom: 'token_purchase', card: { fingerprint: 'fp_same', country } }));
        return [d.outcome, d.features['ip.country'], d.features['ip.address'], d.rules.filter((r) => r.matched).map((r) => r.name)];
      };
      expect(await paid(await bought('DE'), 'FR')).toEqual(['REVIEW', 'DE', ip, ['card-country-differs-from-ip']]);
      expect(await paid(await bought('DE'), 'DE')).toEqual(['ALLOW', 'DE', ip, []]);
      expect(await paid(await bought('DE'), null)).toEqual(['ALLOW', 'DE', ip, []]);
      expect(await paid(await bought(null), 'FR')).toEqual(['ALLOW', null, ip, []]);
    });
  });

  describe('stripe-risk-elevated / stripe-risk-high', () => {
    it('allows 64, reviews 65 and 74, blocks 75, allows no score', async () => {
      const [u] = await f.users(1);
      const at = (riskScore: number | null) => f.outcome(payment(u, { riskScore, card: { fingerprint: 'fp_risk', country: null } }));
      expect(await at(64)).toEqual(['ALLOW', []]);
      expect(await at(65)).toEqual(['REVIEW', ['stripe-risk-elevated']]);
      expect(await at(74)).toEqual(['REVIEW', ['stripe-risk-elevated']]);
      expect(await at(75)).toEqual(['BLOCK', ['stripe-risk-high']]);
      expect(await at(null)).toEqual(['ALLOW', []]);
    });
  });

  describe('large-gift-from-young-account', () => {
    it('reviews gifts over 50,000 from accounts younger than 7 days', async () => {
      const [young] = await f.users(1, 7 * DAY - HOUR);
      const [old] = await f.users(1, 7 * DAY + MINUTE);
      const [recipient] = await f.users(1, 30 * DAY);
      const gift = (userId: string, amount: bigint) =>
        f.outcome({ type: 'credit_transfer', userId, subjectId: subject(), amount, recipientId: recipient, ip: f.ip() });
      expect(await gift(young, 50_001n)).toEqual(['REVIEW', ['large-gift-from-young-account']]);
      expect(await gift(young, 50_000n)).toEqual(['ALLOW', []]);
      expect(await gift(old, 50_001n)).toEqual(['ALLOW', []]);
    });
  });

  describe('gift-to-new-linked-account', () => {
    const gift = (userId: string, recipientId: string, over: Partial<FraudEvent> = {}): FraudEvent => ({
      type: 'credit_transfer',
      userId,
      subjectId: randomUUID(),
      amount: 10n,
      recipientId,
      ...over,
    });
    const seen = (userId: string, over: Partial<FraudEvent>) => f.evaluate({ type: 'login', userId, subjectId: userId, ...over });

    it("reviews a gift to an account under 24 h old that was seen on the sender's IP, now or in the last 30 days", async () => {
      const [sender] = await f.users(1, 90 * DAY);
      const [fresh, other, older] = await f.users(3);
      await t.sql(`UPDATE users SET created_at = created_at - interval '25 hours' WHERE id = $1`, [older]);
      const [shared, earlier, elsewhere] = [f.ip(), f.ip(), f.ip()];
      await seen(fresh, { ip: shared });
      await seen(older, { ip: shared });
      await seen(sender, { ip: earlier });
      await seen(other, { ip: earlier });

      const d = await f.evaluate(gift(sender, fresh, { ip: shared }));
      expect([d.outcome, d.features['recipient.sharesIp'], d.features['recipient.sharesDevice']]).toEqual(['REVIEW', true, false]);
      expect(await f.outcome(gift(sender, other, { ip: elsewhere }))).toEqual(['REVIEW', ['gift-to-new-linked-account']]);
      expect(await f.outcome(gift(sender, older, { ip: shared }))).toEqual(['ALLOW', []]);
      const [unlinked] = await f.users(1);
      await seen(unlinked, { ip: f.ip() });
      expect(await f.outcome(gift(sender, unlinked, { ip: elsewhere }))).toEqual(['ALLOW', []]);
      // an item bought as a gift is judged the same way
      expect(await f.outcome({ ...gift(sender, fresh, { ip: shared }), type: 'item_purchase' })).toEqual([
        'REVIEW',
        ['gift-to-new-linked-account'],
      ]);
    });

    it("reviews a gift to an account under 24 h old seen on the sender's session device or one the sender used", async () => {
      const [sender] = await f.users(1, 90 * DAY);
      const [viaSession, viaHistory, apart] = await f.users(3);
      // the sender's request comes from a session opened on one of its devices (the account guard's record)
      const [{ session_id, device_id }] = await t.sql<{ session_id: string; device_id: string }>(
        `WITH d AS (INSERT INTO devices (user_id, token_hash, created_at, last_seen_at) VALUES ($1, sha256(gen_random_uuid()::text::bytea), $2, $2) RETURNING id),
              s AS (SELECT id FROM sessions WHERE user_id = $1 LIMIT 1)
         INSERT INTO session_devices (session_id, device_id) SELECT s.id, d.id FROM s, d RETURNING session_id, device_id`,
        [sender, f.clock.now()],
      );
      const earlierDevice = randomUUID();
      await seen(sender, { login: { deviceIsNew: false, networkIsNew: false, deviceId: earlierDevice } });
      await seen(viaSession, { login: { deviceIsNew: false, networkIsNew: false, deviceId: device_id } });
      await seen(viaHistory, { login: { deviceIsNew: false, networkIsNew: false, deviceId: earlierDevice } });
      await seen(apart, { login: { deviceIsNew: false, networkIsNew: false, deviceId: randomUUID() } });

      const d = await f.evaluate(gift(sender, viaSession, { sessionId: session_id }));
      expect([d.outcome, d.features['device.id'], d.features['recipient.sharesDevice']]).toEqual(['REVIEW', device_id, true]);
      expect(await f.outcome(gift(sender, viaHistory, { sessionId: session_id }))).toEqual(['REVIEW', ['gift-to-new-linked-account']]);
      // without a device of its own the request still carries the sender's device history
      expect(await f.outcome(gift(sender, viaHistory))).toEqual(['REVIEW', ['gift-to-new-linked-account']]);
      expect(await f.outcome(gift(sender, apart, { sessionId: session_id }))).toEqual(['ALLOW', []]);
    });

    it('never matches without a recipient', async () => {
      const [u] = await f.users(1);
      const ip = f.ip();
      await seen(u, { ip });
      const d = await f.evaluate({ type: 'item_purchase', userId: u, subjectId: randomUUID(), amount: 10n, ip });
      expect([d.outcome, d.features['recipient.ageDays'], d.features['recipient.sharesIp']]).toEqual(['ALLOW', null, null]);
    });
  });

  describe('new-device-and-network-after-reset', () => {
    it('reviews a login from a new device and network up to 60 minutes after a password reset, without opening a case', async () => {
      const a = await signUp(t, 'reset');
      const [never] = await f.users(1);
      const login = (userId: string, deviceIsNew: boolean, networkIsNew: boolean): FraudEvent => ({
        type: 'login',
        userId,
        subjectId: randomUUID(),
        ip: f.ip(),
        login: { deviceIsNew, networkIsNew, deviceId: randomUUID() },
      });
      expect(await f.outcome(login(a.id, true, true))).toEqual(['ALLOW', []]); // never reset
      await t.http().post('/auth/password/reset-request').send({ email: a.email }).expect(202);
      const { token } = (await lastMail(t, a.email, 'password_reset'))!.data;
      await t.http().post('/auth/password/reset').send({ token, newPassword: 'another fixture passphrase 8' }).expect(204);

      await f.clock.advance(59 * 60);
      const reviewed = login(a.id, true, true);
      const d = await f.evaluate(reviewed);
      expect(d.features['user.minutesSincePasswordReset']).toBeGreaterThanOrEqual(59);
      expect([d.outcome, d.rules.filter((r) => r.matched).map((r) => r.name)]).toEqual(['REVIEW', ['new-device-and-network-after-reset']]);
      expect(await f.reviewsOf(reviewed.subjectId)).toEqual([]); // a login's review is the step-up, not a case
      expect(await f.outcome(login(a.id, true, false))).toEqual(['ALLOW', []]);
      expect(await f.outcome(login(a.id, false, true))).toEqual(['ALLOW', []]);
      expect(await f.outcome(login(never, true, true))).toEqual(['ALLOW', []]);
      await f.clock.advance(2 * 60);
      expect(await f.outcome(login(a.id, true, true))).toEqual(['ALLOW', []]);
    });
  });

  it('BLOCK decisions survive the rollback of the caller; the others roll back with it', async () => {
    const [listed, clean] = await f.users(2);
    await f.list('user', listed);
    const ids: string[] = [];
    const attempt = f.tx.run(async (em) => {
      const [allowed, blocked] = await f.fraud.evaluateMany(em, [purchase(clean), purchase(listed)]);
      ids.push(allowed.id, blocked.id);
      expect([allowed.outcome, blocked.outcome]).toEqual(['ALLOW', 'BLOCK']);
      throw FraudErrors.blocked();
    });
    await expect(attempt).rejects.toMatchObject({ code: 'FRAUD_BLOCKED' });
    expect(await f.decisionRow(ids[0])).toBeUndefined();
    expect((await f.decisionRow(ids[1]))?.outcome).toBe('BLOCK');
  });
});

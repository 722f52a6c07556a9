import { randomBytes, randomUUID } from 'node:crypto';
import { AccountGuardService } from '../../src/account-guard/account-guard.service';
import { SpendingPolicy } from '../../src/account-guard/spending.policy';
import { ensureAdmin } from '../../src/boot';
import { ReviewsService } from '../../src/fraud/reviews.service';
import { RulesService } from '../../src/fraud/rules.service';
import { bearer, lastMail, strongPassword, uniqueEmail } from '../support/auth';
import { balance } from '../support/market-fixtures';
import { TestApp, useTestApp } from '../support/test-app';

const BLOCK_LISTED = '00000000-0000-4000-8000-00000000f001';
const RESET_RULE = '00000000-0000-4000-8000-00000000f009';
const HOME = '198.51.100.20';
/** Another /24 than HOME: a new network for the accounts in these tests. */
const ABROAD = '203.0.113.66';

interface DecisionRow {
  id: string;
  subject_id: string;
  outcome: string;
  matched_rule_ids: string[];
  device_id: string | null;
  features: Record<string, unknown>;
}

/** What the sign-up and login fraud rules do, with the default rules of the migration ACTIVE. */
function fixtures(t: () => TestApp) {
  const register = (email: string, password: string, ip = HOME, headers: Record<string, string> = {}) =>
    t().http().post('/auth/register').set('X-Forwarded-For', ip).set(headers).send({ email, password, displayName: 'Someone' });
  const login = (ip: string, email: string, password: string, deviceToken?: string) =>
    t()
      .http()
      .post('/auth/login')
      .set('X-Forwarded-For', ip)
      .send({ email, password, ...(deviceToken ? { deviceToken } : {}) });
  const advance = (seconds: number) => t().http().post('/dev/clock').send({ advanceSeconds: seconds }).expect(200);
  const decisions = (userId: string, eventType: string) =>
    t().sql<DecisionRow>(
      `SELECT id, subject_id, outcome, matched_rule_ids, device_id, features FROM fraud_decisions
        WHERE user_id = $1 AND event_type = $2 ORDER BY created_at, id`,
      [userId, eventType],
    );
  const lastDecision = async (userId: string, eventType: string) => (await decisions(userId, eventType)).at(-1)!;
  const listEntry = (type: string, value: string) =>
    t().sql(`INSERT INTO fraud_list_entries (id, list_type, value, reason, created_at) VALUES ($1, $2, $3, 'test', now())`, [
      randomUUID(),
      type,
      value,
    ]);
  /** Registered and signed in once from `ip` (the account's first device and network). */
  const person = async (ip = HOME) => {
    const email = uniqueEmail('fraud');
    const password = strongPassword();
    const reg = await register(email, password, ip).expect(201);
    const res = await login(ip, email, password).expect(200);
    return {
      id: reg.body.id as string,
      email,
      password,
      ip,
      deviceToken: res.body.deviceToken as string,
      accessToken: res.body.accessToken,
    };
  };
  const resetPassword = async (p: { email: string; password: string; ip: string }) => {
    await t().http().post('/auth/password/reset-request').send({ email: p.email }).expect(202);
    const { token } = (await lastMail(t(), p.email, 'password_reset'))!.data;
    p.password = strongPassword();
    await t().http().post('/auth/password/reset').set('X-Forwarded-For', p.ip).send({ token, newPassword: p.password }).expect(204);
  };
  const stepUpReasons = async (userId: string) =>
    (
      await t().sql<{ reasons: string[] }>(
        `SELECT data->'reasons' AS reasons FROM security_events WHERE user_id = $1 AND kind = 'step_up_required' ORDER BY seq DESC LIMIT 1`,
        [userId],
      )
    )[0]?.reasons;
  return { register, login, advance, decisions, lastDecision, listEntry, person, resetPassword, stepUpReasons };
}

describe('fraud rules on sign-ups and logins', () => {
  let t: TestApp;
  useTestApp((app) => (t = app), { TRUST_PROXY: 'true', FRAUD_IP_COUNTRY_HEADER: 'CF-IPCountry' });
  const f = fixtures(() => t);
  const admin = { email: uniqueEmail('admin'), password: strongPassword() };
  let adminId: string;
  beforeAll(async () => {
    adminId = ((await ensureAdmin(t.app, admin.email, admin.password, 'test')) as { userId: string }).userId;
  });

  const holds = (userId: string) =>
    t.sql<{ reference: string; reason: string; placed_by: string | null }>(
      'SELECT reference, reason, placed_by FROM account_holds WHERE user_id = $1 AND released_at IS NULL ORDER BY placed_at, id',
      [userId],
    );
  const onHold = async (userId: string) => (await t.app.get(AccountGuardService).state(userId)).onHold;

  describe('signup', () => {
    it('ALLOW: the account is created as before, and the decision keeps the features it was made on', async () => {
      const email = uniqueEmail('fine');
      const res = await f.register(email, strongPassword(), '192.0.2.10', { 'CF-IPCountry': 'de' }).expect(201);
      const d = await f.lastDecision(res.body.id, 'signup');
      expect(d).toMatchObject({ subject_id: res.body.id, outcome: 'ALLOW', matched_rule_ids: [] });
      expect(d.features).toMatchObject({
        'user.email': email,
        'user.emailDomain': 'example.com',
        'ip.address': '192.0.2.10',
        'ip.country': 'DE',
      });
      expect(d.features['user.ageDays']).toBeLessThan(0.001);
      // "XX" is the edge's "unknown": no country.
      const elsewhere = await f.register(uniqueEmail('nowhere'), strongPassword(), '192.0.2.11', { 'CF-IPCountry': 'XX' }).expect(201);
      expect((await f.lastDecision(elsewhere.body.id, 'signup')).features['ip.country']).toBeNull();
      expect(await onHold(res.body.id)).toBe(false);
      expect(await balance(t, res.body.id, 'PROMO')).toBe(BigInt(t.config.economy.signupBonusPromo));
      expect(await lastMail(t, email, 'email_verification')).toBeDefined();
    });

    describe('REVIEW (a rule reviewing sign-ups from some email domains)', () => {
      const domain = `review-${randomBytes(3).toString('hex')}.example.org`;
      beforeAll(async () => {
        const ruleId = randomUUID();
        await t.sql(`INSERT INTO fraud_rules (id, name, current_version, created_at, updated_at) VALUES ($1, $2, 1, now(), now())`, [
          ruleId,
          `review-domains-${domain}`,
        ]);
        await t.sql(
          `INSERT INTO fraud_rule_versions (id, rule_id, version, name, event_types, condition, action, score, mode, created_at)
           VALUES ($1, $2, 1, $3, '{signup}', $4::jsonb, 'REVIEW', 0, 'ACTIVE', now())`,
          [
            randomUUID(),
            ruleId,
            `review-domains-${domain}`,
            JSON.stringify({ in: [{ var: 'user.emailDomain' }, [domain, 'other.example']] }),
          ],
        );
        t.app.get(RulesService).invalidate();
      });
      const reviewed = async () => {
        const email = `someone-${randomBytes(4).toString('hex')}@${domain}`;
        const password = strongPassword();
        const res = await f.register(email, password).expect(201);
        const review = await t.app.get(ReviewsService).forSubject('signup', res.body.id);
        return { id: res.body.id as string, email, password, review: review! };
      };

      it('creates the account on an account hold: the sign-up bonus is there but nothing can be bought, spent or moved', async () => {
        const u = await reviewed();
        expect(await f.lastDecision(u.id, 'signup')).toMatchObject({ outcome: 'REVIEW' });
        expect(u.review).toMatchObject({ status: 'open', userId: u.id, subjectId: u.id, eventType: 'signup' });
        expect(await holds(u.id)).toEqual([
          { reference: `fraud_review:${u.id}`, reason: 'Sign-up held for fraud review', placed_by: null },
        ]);
        expect(await balance(t, u.id, 'PROMO')).toBe(BigInt(t.config.economy.signupBonusPromo));
        const spending = t.app.get(SpendingPolicy);
        await expect(spending.assertMaySpend(u.id)).rejects.toMatchObject({ code: 'ACCOUNT_ON_HOLD' });
        await expect(spending.assertMayBuyCredits(u.id)).rejects.toMatchObject({ code: 'ACCOUNT_ON_HOLD' });
        await expect(spending.assertMayMoveValue(u.id, 'credit_transfer')).rejects.toMatchObject({ code: 'ACCOUNT_ON_HOLD' });
        // The user can still sign in (and see why nothing works).
        const me = await f.login(HOME, u.email, u.password).expect(200);
        const profile = await t
          .http()
          .get('/me')
          .set(...bearer(me.body.accessToken))
          .expect(200);
        expect(profile.body.security.onHold).toBe(true);
      });

      it('approved: the hold is released, recorded with the admin and the note', async () => {
        const u = await reviewed();
        const decided = await t.app.get(ReviewsService).decide(u.review.id, adminId, 'approve', 'looks fine');
        expect(decided.status).toBe('approved');
        expect(await onHold(u.id)).toBe(false);
        await expect(t.app.get(SpendingPolicy).assertMaySpend(u.id)).resolves.toBeUndefined();
        const audit = await t.sql<{ action: string; actor_id: string | null; reason: string }>(
          `SELECT action, actor_id, reason FROM audit_log WHERE subject_id IN ($1, $2) ORDER BY seq`,
          [u.id, u.review.id],
        );
        expect(audit).toEqual(
          expect.arrayContaining([
            expect.objectContaining({ action: 'account.hold_placed', reason: 'Sign-up held for fraud review' }),
            expect.objectContaining({ action: 'account.hold_released', reason: 'Sign-up approved in fraud review' }),
            expect.objectContaining({ action: 'fraud.review_approved', actor_id: adminId, reason: 'looks fine' }),
          ]),
        );
      });

      it('rejected: the account stays held, by a hold that says so', async () => {
        const u = await reviewed();
        await t.app.get(ReviewsService).decide(u.review.id, adminId, 'reject', 'throwaway domain');
        expect(await onHold(u.id)).toBe(true);
        expect(await holds(u.id)).toEqual([
          { reference: `fraud_rejected:${u.id}`, reason: 'Sign-up rejected in fraud review', placed_by: adminId },
        ]);
        await expect(t.app.get(SpendingPolicy).assertMaySpend(u.id)).rejects.toMatchObject({ code: 'ACCOUNT_ON_HOLD' });
      });

      it('two admins deciding one sign-up review at once: one decision wins, the hold matches it', async () => {
        for (let i = 0; i < 3; i++) {
          const u = await reviewed();
          const reviews = t.app.get(ReviewsService);
          const [approve, reject] = await Promise.allSettled([
            reviews.decide(u.review.id, adminId, 'approve', 'a'),
            reviews.decide(u.review.id, adminId, 'reject', 'b'),
          ]);
          const won = [approve, reject].filter((r) => r.status === 'fulfilled');
          expect(won).toHaveLength(1);
          const lost = [approve, reject].find((r) => r.status === 'rejected') as PromiseRejectedResult;
          expect(lost.reason).toMatchObject({ code: 'INVALID_STATE' });
          expect(await onHold(u.id)).toBe(reject.status === 'fulfilled');
        }
      });
    });

    describe('BLOCK (the default block-listed rule)', () => {
      const refusedWithNothingCreated = async (email: string, ip: string) => {
        const res = await f.register(email, strongPassword(), ip).expect(403);
        expect(Object.keys(res.body).sort()).toEqual(['code', 'detail', 'instance', 'requestId', 'status', 'title', 'type']);
        expect(res.body).toMatchObject({ code: 'FRAUD_BLOCKED', detail: 'This action was refused by the fraud checks' });
        expect(JSON.stringify(res.body)).not.toMatch(/block-listed|list|rule/i);
        expect(await t.sql('SELECT id FROM users WHERE email = $1', [email])).toEqual([]);
        expect(await lastMail(t, email, 'email_verification')).toBeUndefined();
        // The decision outlives the rolled-back registration.
        const [d] = await t.sql<DecisionRow>(
          `SELECT id, subject_id, outcome, matched_rule_ids, device_id, features FROM fraud_decisions
            WHERE event_type = 'signup' AND features->>'user.email' = $1`,
          [email],
        );
        expect(d).toMatchObject({ outcome: 'BLOCK', matched_rule_ids: [BLOCK_LISTED] });
        expect(await t.sql('SELECT 1 FROM fraud_reviews WHERE decision_id = $1', [d.id])).toEqual([]);
        expect(await t.sql('SELECT 1 FROM ledger_entries WHERE reference = $1', [`signup_bonus:${d.subject_id}`])).toEqual([]);
      };

      it('from a listed email domain: 403 FRAUD_BLOCKED, generic, and no account, mail or bonus', async () => {
        const domain = `blocked-${randomBytes(3).toString('hex')}.example.net`;
        await f.listEntry('email_domain', domain);
        await refusedWithNothingCreated(`x-${randomBytes(4).toString('hex')}@${domain}`, HOME);
        // The same address part at another domain is fine.
        await f.register(uniqueEmail('neighbour'), strongPassword()).expect(201);
      });

      it('from a listed IP address', async () => {
        await f.listEntry('ip', '192.0.2.99');
        await refusedWithNothingCreated(uniqueEmail('from-listed-ip'), '192.0.2.99');
        await f.register(uniqueEmail('next-door'), strongPassword(), '192.0.2.98').expect(201);
      });
    });
  });

  describe('login', () => {
    it('each login is decided with the novelty the account guard saw, and sessions remember their device', async () => {
      const p = await f.person();
      const first = await f.lastDecision(p.id, 'login');
      expect(first).toMatchObject({ outcome: 'ALLOW', device_id: null });
      expect(first.features).toMatchObject({ 'device.isNew': false, 'network.isNew': false, 'ip.address': HOME });

      // Back on the device: the decision names it; the session is linked to it.
      const again = await f.login(HOME, p.email, p.password, p.deviceToken).expect(200);
      const [device] = await t.sql<{ id: string }>('SELECT id FROM devices WHERE user_id = $1', [p.id]);
      expect(await f.lastDecision(p.id, 'login')).toMatchObject({
        device_id: device.id,
        features: expect.objectContaining({ 'device.id': device.id }),
      });
      const guard = t.app.get(AccountGuardService);
      const sessions = await t.sql<{ session_id: string; device_id: string }>(
        'SELECT sd.session_id, sd.device_id FROM session_devices sd JOIN sessions s ON s.id = sd.session_id WHERE s.user_id = $1',
        [p.id],
      );
      expect(sessions).toHaveLength(2);
      expect(sessions.every((s) => s.device_id === device.id)).toBe(true);
      const sessionId = JSON.parse(Buffer.from(again.body.accessToken.split('.')[1], 'base64url').toString()).sid as string;

      // A second device on the same /24: no step-up; its session's events read it as new for 24 h.
      const second = await f.login('198.51.100.21', p.email, p.password).expect(200);
      const secondSid = JSON.parse(Buffer.from(second.body.accessToken.split('.')[1], 'base64url').toString()).sid as string;
      expect(await f.lastDecision(p.id, 'login')).toMatchObject({
        device_id: null,
        features: expect.objectContaining({ 'device.isNew': true, 'network.isNew': false }),
      });
      const read = () =>
        t.dataSource.transaction((em) =>
          guard.fraudSignals(em, [
            { userId: p.id, sessionId, ip: HOME },
            { userId: p.id, sessionId: secondSid, ip: '203.0.113.9' },
            { userId: p.id, sessionId: null, ip: null },
          ]),
        );
      const [onFirst, onSecond, none] = await read();
      const [secondDevice] = await t.sql<{ id: string }>('SELECT id FROM devices WHERE user_id = $1 AND id <> $2', [p.id, device.id]);
      expect(onFirst).toMatchObject({ deviceId: device.id, deviceIsNew: false, networkIsNew: false });
      expect(onSecond).toMatchObject({ deviceId: secondDevice.id, deviceIsNew: true, networkIsNew: true });
      expect(none).toMatchObject({ deviceId: null, deviceIsNew: false, networkIsNew: false });
      await f.advance(24 * 3600 + 1);
      expect((await read())[1]).toMatchObject({ deviceId: secondDevice.id, deviceIsNew: false });
    });

    it('one browser signed in to two accounts is one device for the rules (its cluster), not two', async () => {
      const a = await f.person();
      const [aDevice] = await t.sql<{ id: string }>('SELECT id FROM devices WHERE user_id = $1', [a.id]);
      const b = await f.person('192.0.2.40');
      // b signs in on a's browser: a's device token is presented, b gets a device row of its own in a's cluster.
      const onA = await f.login('192.0.2.40', b.email, b.password, a.deviceToken);
      expect([200, 401]).toContain(onA.status);
      expect(await f.lastDecision(b.id, 'login')).toMatchObject({ device_id: aDevice.id });
      const rows = await t.sql<{ cluster_id: string | null }>('SELECT cluster_id FROM devices WHERE user_id = $1 ORDER BY created_at', [
        b.id,
      ]);
      if (onA.status === 200) expect(rows.map((r) => r.cluster_id)).toEqual([null, aDevice.id]);
      // a's own device is still its own cluster; a stranger's token changes nothing for it.
      expect(await t.sql('SELECT cluster_id FROM devices WHERE id = $1', [aDevice.id])).toEqual([{ cluster_id: null }]);
    });

    it('BLOCK from a listed IP: 403 FRAUD_BLOCKED, generic; no session, no challenge', async () => {
      const p = await f.person();
      const ip = '192.0.2.77';
      await f.listEntry('ip', ip);
      for (const deviceToken of [p.deviceToken, undefined]) {
        const res = await f.login(ip, p.email, p.password, deviceToken).expect(403);
        expect(Object.keys(res.body).sort()).toEqual(['code', 'detail', 'instance', 'requestId', 'status', 'title', 'type']);
        expect(res.body).toMatchObject({ code: 'FRAUD_BLOCKED', detail: 'This action was refused by the fraud checks' });
        expect(JSON.stringify(res.body)).not.toMatch(/block-listed|list|rule|192\.0\.2/i);
      }
      const blocked = (await f.decisions(p.id, 'login')).filter((d) => d.outcome === 'BLOCK');
      expect(blocked).toHaveLength(2);
      expect(blocked.every((d) => d.matched_rule_ids.includes(BLOCK_LISTED))).toBe(true);
      expect(await t.sql('SELECT id FROM sessions WHERE user_id = $1', [p.id])).toHaveLength(1);
      expect(await t.sql('SELECT id FROM step_up_challenges WHERE user_id = $1', [p.id])).toEqual([]);
      // Elsewhere the owner still gets in.
      await f.login(HOME, p.email, p.password, p.deviceToken).expect(200);
    });

    describe('a new device and a new network within an hour of a password reset (default rule)', () => {
      it('59 minutes after the reset the rule sends the login to review (step-up, reason fraud_rule); 61 minutes after it does not', async () => {
        const p = await f.person();
        await f.resetPassword(p);
        await f.advance(59 * 60);
        const early = await f.login(ABROAD, p.email, p.password).expect(401);
        expect(early.body.code).toBe('STEP_UP_REQUIRED');
        const d59 = await f.lastDecision(p.id, 'login');
        expect(d59).toMatchObject({ outcome: 'REVIEW', subject_id: early.body.challengeId, matched_rule_ids: [RESET_RULE] });
        expect(d59.features['user.minutesSincePasswordReset']).toBeGreaterThan(58.9);
        expect(d59.features['user.minutesSincePasswordReset']).toBeLessThan(60);
        expect(await f.stepUpReasons(p.id)).toEqual(['new_device', 'new_network', 'fraud_rule']);
        expect(await t.sql('SELECT 1 FROM fraud_reviews WHERE decision_id = $1', [d59.id])).toEqual([]);

        await f.advance(2 * 60);
        const late = await f.login(ABROAD, p.email, p.password).expect(401); // the account guard's own risk policy still asks
        const d61 = await f.lastDecision(p.id, 'login');
        expect(d61).toMatchObject({ outcome: 'ALLOW', subject_id: late.body.challengeId, matched_rule_ids: [] });
        expect(d61.features['user.minutesSincePasswordReset']).toBeGreaterThan(61);
        expect(await f.stepUpReasons(p.id)).toEqual(['new_device', 'new_network']);
      });

      it('needs both: a new device on a known network, or a known device on a new network, is not reviewed', async () => {
        const p = await f.person();
        await f.resetPassword(p);
        await f.advance(10 * 60);
        await f.login('198.51.100.30', p.email, p.password).expect(200); // new device, same /24
        expect(await f.lastDecision(p.id, 'login')).toMatchObject({
          outcome: 'ALLOW',
          features: expect.objectContaining({ 'device.isNew': true, 'network.isNew': false }),
        });
        await f.login(ABROAD, p.email, p.password, p.deviceToken).expect(200); // known device, new network
        expect(await f.lastDecision(p.id, 'login')).toMatchObject({
          outcome: 'ALLOW',
          features: expect.objectContaining({ 'device.isNew': false, 'network.isNew': true }),
        });
      });
    });
  });

  it('leaves the ledger verifiable (sign-up bonuses of reviewed accounts included)', async () => {
    const { accessToken } = (await f.login(HOME, admin.email, admin.password).expect(200)).body;
    const verify = await t
      .http()
      .get('/admin/ledger/verify')
      .set(...bearer(accessToken))
      .expect(200);
    expect(verify.body).toMatchObject({ ok: true, problems: [] });
  });
});

describe('fraud rules on logins, where only the fraud rule asks for a step-up', () => {
  let t: TestApp;
  // A new device and a new network (50 + 30) no longer reach the risk policy's step-up score.
  useTestApp((app) => (t = app), { TRUST_PROXY: 'true', LOGIN_RISK_STEP_UP_AT: '150' });
  const f = fixtures(() => t);

  it('steps up a new device and network 59 minutes after a reset, and lets such a login in 61 minutes after a reset', async () => {
    const p = await f.person();
    await f.login(ABROAD, p.email, p.password).expect(200); // without a reset: no step-up
    const fresh = await f.person();
    await f.resetPassword(fresh);
    await f.advance(59 * 60);
    const early = await f.login(ABROAD, fresh.email, fresh.password).expect(401);
    expect(early.body).toMatchObject({ code: 'STEP_UP_REQUIRED', methods: ['email'] });
    expect(await f.stepUpReasons(fresh.id)).toEqual(['new_device', 'new_network', 'fraud_rule']);
    expect(await f.lastDecision(fresh.id, 'login')).toMatchObject({ outcome: 'REVIEW', matched_rule_ids: [RESET_RULE] });

    // The owner passes the step-up: the login completes as the account guard's flow always did.
    const { code } = (await lastMail(t, fresh.email, 'step_up_code'))!.data;
    await t.http().post('/auth/step-up').set('X-Forwarded-For', ABROAD).send({ challengeId: early.body.challengeId, code }).expect(200);

    const other = await f.person();
    await f.resetPassword(other);
    await f.advance(61 * 60);
    await f.login(ABROAD, other.email, other.password).expect(200);
    expect(await f.lastDecision(other.id, 'login')).toMatchObject({ outcome: 'ALLOW', matched_rule_ids: [] });
  });
});

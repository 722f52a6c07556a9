import { generate } from 'otplib';
import { AccountGuardService } from '../../src/account-guard/account-guard.service';
import { ensureAdmin } from '../../src/boot';
import { PasswordHasherService } from '../../src/identity/passwords/password-hasher.service';
import { bearer, lastMail, strongPassword, uniqueEmail } from '../support/auth';
import { TestApp, useTestApp } from '../support/test-app';

/** Attack scenarios against the account-takeover guard; every one ends with the legitimate user getting in. */
describe('account guard: an attacker with a stolen password', () => {
  let t: TestApp;
  let guard: AccountGuardService;
  useTestApp((app) => (t = app), { TRUST_PROXY: 'true' });
  beforeAll(async () => {
    guard = t.app.get(AccountGuardService);
  });

  interface Person {
    id: string;
    email: string;
    password: string;
    ip: string;
    deviceToken: string;
    accessToken: string;
    refreshToken: string;
  }

  const HOME = '198.51.100.20';
  const ATTACKER = '203.0.113.66';

  const login = (ip: string, email: string, password: string, deviceToken?: string) =>
    t
      .http()
      .post('/auth/login')
      .set('X-Forwarded-For', ip)
      .send({ email, password, ...(deviceToken ? { deviceToken } : {}) });
  const advance = (seconds: number) => t.http().post('/dev/clock').send({ advanceSeconds: seconds }).expect(200);
  const nowSeconds = async () => Math.floor(Date.parse((await t.http().get('/dev/clock').expect(200)).body.now) / 1000);
  const totpCode = async (secret: string, offsetSeconds = 0) => generate({ secret, epoch: (await nowSeconds()) + offsetSeconds });
  /** A request carrying `token` as its bearer. */
  const authed = (method: 'get' | 'post', path: string, token: string) => {
    const http = t.http();
    return http[method](path).set(...bearer(token));
  };
  const enrollTotp = async (p: Person) =>
    (await authed('post', '/auth/2fa/totp/enroll', p.accessToken).expect(200)).body as { secret: string; otpauthUrl: string };
  const confirmTotp = (p: Person, code: string) => authed('post', '/auth/2fa/totp/confirm', p.accessToken).send({ code });
  const twoFactorEnabled = async (p: Person) => (await authed('get', '/me', p.accessToken)).body.security.twoFactorEnabled as boolean;
  /** A fresh admin, signed in from home; returns their access token. */
  async function signInAdmin(): Promise<string> {
    const adminEmail = uniqueEmail('admin');
    const adminPassword = strongPassword();
    await ensureAdmin(t.app, adminEmail, adminPassword, 'test');
    return (await login(HOME, adminEmail, adminPassword).expect(200)).body.accessToken as string;
  }
  const events = async (p: Person) =>
    ((await authed('get', '/me/security-events', p.accessToken).expect(200)).body.items as { kind: string }[]).map((e) => e.kind);
  const refusal = async (userId: string): Promise<({ code: string; status: number } & Record<string, unknown>) | null> => {
    try {
      await guard.assertMayMoveValue(userId, 'credit_transfer');
      return null;
    } catch (err) {
      const e = err as { code: string; status: number; extra: Record<string, unknown> };
      return { code: e.code, status: e.status, ...e.extra };
    }
  };

  /** A user who registered and signed in once from home (their first device). */
  async function person(ip = HOME): Promise<Person> {
    const email = uniqueEmail('victim');
    const password = strongPassword();
    await t.http().post('/auth/register').set('X-Forwarded-For', ip).send({ email, password, displayName: 'Victim' }).expect(201);
    const res = await login(ip, email, password).expect(200);
    expect(res.body.deviceToken).toEqual(expect.any(String));
    return {
      id: res.body.user.id,
      email,
      password,
      ip,
      ...(res.body as { deviceToken: string; accessToken: string; refreshToken: string }),
    };
  }

  describe('brute force on one account', () => {
    it('locks after 5 failures (423, whatever the password), doubles the lock, and lets the owner in afterwards', async () => {
      const v = await person();
      for (let i = 0; i < 5; i++) expect((await login(ATTACKER, v.email, `guess-${i}-wrong`)).body.code).toBe('INVALID_CREDENTIALS');
      const locked = await login(ATTACKER, v.email, v.password, v.deviceToken).expect(423);
      expect(locked.body).toMatchObject({ code: 'ACCOUNT_LOCKED', until: expect.any(String) });
      // The right password gets the same answer as a wrong one while locked: nothing is revealed.
      const lockedWrong = await login(ATTACKER, v.email, 'another-wrong-guess').expect(423);
      expect({ ...lockedWrong.body, requestId: 0 }).toEqual({ ...locked.body, requestId: 0 });
      const firstUntil = Date.parse(locked.body.until);

      await advance(61);
      await login(ATTACKER, v.email, 'guess-6-wrong').expect(401);
      const relocked = await login(ATTACKER, v.email, 'guess-7-wrong').expect(423);
      // The 6th failure, a second after the first lock ended, locks for twice as long: 2 minutes.
      const secondLock = Date.parse(relocked.body.until) - firstUntil;
      expect(secondLock).toBeGreaterThanOrEqual(120_000);
      expect(secondLock).toBeLessThan(130_000);

      await advance(121);
      const owner = await login(v.ip, v.email, v.password, v.deviceToken).expect(200);
      const lockouts = await t.sql<{ consecutive_failures: number }>('SELECT consecutive_failures FROM login_lockouts WHERE email = $1', [
        v.email,
      ]);
      expect(lockouts[0].consecutive_failures).toBe(0);
      expect(await events({ ...v, accessToken: owner.body.accessToken })).toContain('account_locked');
      expect((await lastMail(t, v.email, 'security.account_locked'))?.subject).toMatch(/locked/);
    });

    it('treats an unknown email exactly like a real one (no account enumeration through lockout)', async () => {
      const ghost = uniqueEmail('ghost');
      for (let i = 0; i < 5; i++) await login(ATTACKER, ghost, `guess-${i}-wrong`).expect(401);
      expect((await login(ATTACKER, ghost, 'guess-5-wrong').expect(423)).body.code).toBe('ACCOUNT_LOCKED');
    });

    it('lets only 5 of 20 parallel guesses be checked', async () => {
      const v = await person();
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => login(ATTACKER, v.email, `parallel-guess-${i}`)));
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s === 401)).toHaveLength(5);
      expect(statuses.filter((s) => s === 423)).toHaveLength(15);
    });

    it('locks until a password reset after 100 consecutive failures; the reset lets the owner in', async () => {
      const v = await person();
      // 99 failures recorded directly (the progression up to there is covered above and by the unit test).
      await t.sql(
        `INSERT INTO login_lockouts (email, consecutive_failures, updated_at) VALUES ($1, 99, now())
         ON CONFLICT (email) DO UPDATE SET consecutive_failures = 99`,
        [v.email],
      );
      await login(ATTACKER, v.email, 'the-hundredth-guess').expect(401);
      await advance(3600);
      const locked = await login(v.ip, v.email, v.password, v.deviceToken).expect(423);
      expect(locked.body).toMatchObject({ code: 'ACCOUNT_LOCKED', until: null });
      await t.http().post('/auth/password/reset-request').send({ email: v.email }).expect(202);
      const { token } = (await lastMail(t, v.email, 'password_reset'))!.data;
      const newPassword = strongPassword();
      await t.http().post('/auth/password/reset').set('X-Forwarded-For', v.ip).send({ token, newPassword }).expect(204);
      await login(v.ip, v.email, newPassword, v.deviceToken).expect(200);
    });

    it('counts wrong passwords on re-authentication too', async () => {
      const v = await person();
      for (let i = 0; i < 5; i++) {
        await t
          .http()
          .post('/auth/reauth')
          .set('X-Forwarded-For', ATTACKER)
          .set(...bearer(v.accessToken))
          .send({ password: `nope-${i}-nope` })
          .expect(401);
      }
      const res = await authed('post', '/auth/reauth', v.accessToken).send({ password: v.password }).expect(423);
      expect(res.body.code).toBe('ACCOUNT_LOCKED');
      await advance(61);
    });
  });

  describe('password spraying from one IP', () => {
    it('answers 429 after 100 failed logins a day from the IP, steps up a correct guess, and lets real users in', async () => {
      const SPRAYER = '192.0.2.99';
      const sprayed = 'Summer-2025-spray!';
      const victim = await (async () => {
        const email = uniqueEmail('sprayvictim');
        await t.http().post('/auth/register').send({ email, password: sprayed, displayName: 'V' }).expect(201);
        const res = await login(HOME, email, sprayed).expect(200);
        return { email, deviceToken: res.body.deviceToken as string };
      })();
      // 200 other accounts, inserted directly with one precomputed hash (of a password nobody sprays).
      const hash = await t.app.get(PasswordHasherService).hash(strongPassword());
      const prefix = uniqueEmail('spray').split('@')[0];
      await t.sql(
        `INSERT INTO users (email, display_name, password_hash, created_at, password_changed_at, updated_at)
         SELECT $1 || '-' || g || '@example.com', 'Sprayed', $2, now(), now(), now() FROM generate_series(1, 200) g`,
        [prefix, hash],
      );
      const emails = Array.from({ length: 200 }, (_, i) => `${prefix}-${i + 1}@example.com`);
      const spray = async (list: string[]) => {
        const statuses: number[] = [];
        for (let i = 0; i < list.length; i += 10) {
          const batch = await Promise.all(list.slice(i, i + 10).map((email) => login(SPRAYER, email, sprayed)));
          statuses.push(...batch.map((r) => r.status));
        }
        return statuses;
      };

      const first = await spray(emails.slice(0, 60));
      expect(first.every((s) => s === 401)).toBe(true);
      // The one account whose password was sprayed: right password, new device, IP failing on many accounts.
      const hit = await login(SPRAYER, victim.email, sprayed).expect(401);
      expect(hit.body).toMatchObject({ code: 'STEP_UP_REQUIRED', challengeId: expect.any(String), methods: ['email'] });

      const rest = await spray(emails.slice(60));
      expect(rest.filter((s) => s === 401)).toHaveLength(40);
      expect(rest.filter((s) => s === 429)).toHaveLength(100);
      const limited = await login(SPRAYER, uniqueEmail(), 'anything-at-all').expect(429);
      expect(limited.body.code).toBe('RATE_LIMITED');
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);

      // The victim, at home on their own device, gets in; so does anyone from another network.
      await login(HOME, victim.email, sprayed, victim.deviceToken).expect(200);
      const other = await person('198.51.100.77');
      await login(other.ip, other.email, other.password, other.deviceToken).expect(200);
      // A day later the sprayer's IP may try again.
      await advance(86400 + 1);
      await login(SPRAYER, emails[0], sprayed).expect(401);
    });

    it('says in Retry-After when the limit frees: when the 100th newest failure leaves the 24 hours', async () => {
      const IP = '192.0.2.150';
      const now = (await nowSeconds()) * 1000;
      // 101 failures: 22 and 20 hours ago, and 99 an hour ago. Once the 20-hour-old one is 24 hours old, 99 are left.
      await t.sql(
        `INSERT INTO login_attempts (occurred_at, purpose, email, ip, outcome)
         SELECT CASE WHEN g = 1 THEN $1 WHEN g = 2 THEN $2 ELSE $3 END::timestamptz, 'login', 'ra-' || g || '@example.com', $4, 'failure'
         FROM generate_series(1, 101) g`,
        [new Date(now - 22 * 3600_000), new Date(now - 20 * 3600_000), new Date(now - 3600_000), IP],
      );
      const limited = await login(IP, uniqueEmail('ra'), 'wrong-password').expect(429);
      const retryAfter = Number(limited.headers['retry-after']);
      expect(limited.headers['retry-after']).toMatch(/^\d+$/);
      expect(retryAfter).toBeGreaterThan(4 * 3600 - 60);
      expect(retryAfter).toBeLessThanOrEqual(4 * 3600);
      expect(limited.body).toMatchObject({ code: 'RATE_LIMITED', retryAfter });

      await advance(retryAfter - 60);
      const soon = await login(IP, uniqueEmail('ra'), 'wrong-password').expect(429);
      expect(Number(soon.headers['retry-after'])).toBeLessThanOrEqual(60);
      await advance(60);
      await login(IP, uniqueEmail('ra'), 'wrong-password').expect(401);
    });
  });

  describe('what per-IP rules count', () => {
    it('is the address the proxy saw, not one the client wrote into X-Forwarded-For', async () => {
      const ghost = uniqueEmail('xff');
      await t
        .http()
        .post('/auth/login')
        .set('X-Forwarded-For', '6.6.6.6, 203.0.113.201')
        .send({ email: ghost, password: 'wrong-password-1' })
        .expect(401);
      expect(await t.sql('SELECT host(ip) AS ip FROM login_attempts WHERE email = $1', [ghost])).toEqual([{ ip: '203.0.113.201' }]);
    });

    it('is the /64 for IPv6, so hopping between addresses of one subscriber does not escape the 429', async () => {
      // 99 failures today from 99 addresses of one /64 (recorded directly; the count itself is covered above).
      await t.sql(
        `INSERT INTO login_attempts (occurred_at, purpose, email, ip, outcome)
         SELECT $1, 'login', 'v6-' || g || '@example.com', ('2001:db8:66:1::' || to_hex(g))::inet, 'failure' FROM generate_series(1, 99) g`,
        [new Date((await nowSeconds()) * 1000)],
      );
      await login('2001:db8:66:1::ffff', uniqueEmail('v6'), 'wrong-password-100').expect(401);
      const limited = await login('2001:db8:66:1:abcd:1234:5678:9abc', uniqueEmail('v6'), 'wrong-password-101').expect(429);
      expect(limited.body.code).toBe('RATE_LIMITED');
      // The next /64 belongs to someone else.
      await login('2001:db8:66:2::1', uniqueEmail('v6'), 'wrong-password-1').expect(401);
    });
  });

  describe('a new device with the right password and no second factor', () => {
    it('is stopped by a step-up that only the owner (who reads the email code) can pass', async () => {
      const v = await person();
      const res = await login(ATTACKER, v.email, v.password).expect(401);
      expect(res.body).toMatchObject({ code: 'STEP_UP_REQUIRED', methods: ['email'] });
      const { challengeId } = res.body;
      const mail = await lastMail(t, v.email, 'step_up_code');
      expect(mail?.data.challengeId).toBe(challengeId);

      const wrong = await t
        .http()
        .post('/auth/step-up')
        .set('X-Forwarded-For', ATTACKER)
        .send({ challengeId, code: mail!.data.code === '000000' ? '000001' : '000000' })
        .expect(401);
      expect(wrong.body).toMatchObject({ code: 'INVALID_CREDENTIALS', attemptsLeft: 4 });
      for (const bad of [{}, { challengeId: 'x', code: '123456' }, { challengeId, code: '12345' }, { challengeId, code: 123456 }]) {
        await t.http().post('/auth/step-up').send(bad).expect(400);
      }

      // The owner completes it (say the attacker's login was really the owner on a new laptop).
      const ok = await t
        .http()
        .post('/auth/step-up')
        .set('X-Forwarded-For', ATTACKER)
        .send({ challengeId, code: mail!.data.code })
        .expect(200);
      expect(ok.body).toMatchObject({ accessToken: expect.any(String), refreshToken: expect.any(String), deviceToken: expect.any(String) });
      expect(ok.body.deviceToken).not.toBe(v.deviceToken);
      // Single use.
      await t.http().post('/auth/step-up').send({ challengeId, code: mail!.data.code }).expect(401);

      // A new device on an account that had one: 72 hours of cooling, notified by email.
      const cooling = await refusal(v.id);
      expect(cooling).toMatchObject({ code: 'COOLING_PERIOD_ACTIVE', status: 423, reason: 'new_device', until: expect.any(String) });
      expect(Date.parse(cooling!.until as string) - (await nowSeconds()) * 1000).toBeGreaterThan(71.9 * 3600_000);
      expect((await lastMail(t, v.email, 'security.new_device_login'))?.text).toContain(ATTACKER);
      const me = await authed('get', '/me', ok.body.accessToken).expect(200);
      expect(me.body.security).toMatchObject({ coolingReason: 'new_device', coolingUntil: cooling!.until });
      // Their home device is still known: no step-up, no new cooling.
      await login(v.ip, v.email, v.password, v.deviceToken).expect(200);
      await advance(72 * 3600 + 1);
      expect(await refusal(v.id)).toBeNull();
    });

    it('gives up a challenge after 5 wrong codes, escalates the lock for a thief who keeps trying, and expires emailed codes after 10 minutes', async () => {
      const v = await person();
      const { challengeId } = (await login(ATTACKER, v.email, v.password).expect(401)).body;
      const { code } = (await lastMail(t, v.email, 'step_up_code'))!.data;
      const wrongCode = code === '999999' ? '999998' : '999999';
      for (let i = 0; i < 5; i++)
        await t.http().post('/auth/step-up').set('X-Forwarded-For', ATTACKER).send({ challengeId, code: wrongCode }).expect(401);
      const dead = await t.http().post('/auth/step-up').send({ challengeId, code }).expect(401);
      expect(dead.body.code).toBe('INVALID_TOKEN');
      // The wrong codes count like wrong passwords: the account is locked for a minute.
      expect((await login(ATTACKER, v.email, v.password).expect(423)).body.code).toBe('ACCOUNT_LOCKED');
      await advance(61);

      // Knowing the password does not wipe the count: the next challenge gets one guess before a 2-minute lock.
      const second = (await login(ATTACKER, v.email, v.password).expect(401)).body.challengeId;
      const secondCode = (await lastMail(t, v.email, 'step_up_code'))!.data.code;
      const otherCode = secondCode === '123456' ? '654321' : '123456';
      await t.http().post('/auth/step-up').set('X-Forwarded-For', ATTACKER).send({ challengeId: second, code: otherCode }).expect(401);
      const locked = await t
        .http()
        .post('/auth/step-up')
        .set('X-Forwarded-For', ATTACKER)
        .send({ challengeId: second, code: otherCode })
        .expect(423);
      expect(Date.parse(locked.body.until) - (await nowSeconds()) * 1000).toBeGreaterThan(110_000);
      await advance(121);

      // Emailed codes expire after 10 minutes.
      const third = (await login(ATTACKER, v.email, v.password).expect(401)).body.challengeId;
      const thirdCode = (await lastMail(t, v.email, 'step_up_code'))!.data.code;
      await advance(601);
      expect((await t.http().post('/auth/step-up').send({ challengeId: third, code: thirdCode }).expect(401)).body.code).toBe(
        'INVALID_TOKEN',
      );

      // The owner, at home on their device, gets in, and the count starts again.
      await login(v.ip, v.email, v.password, v.deviceToken).expect(200);
      const [row] = await t.sql<{ consecutive_failures: number }>('SELECT consecutive_failures FROM login_lockouts WHERE email = $1', [
        v.email,
      ]);
      expect(row.consecutive_failures).toBe(0);
    });

    it('a new device on a known network (/24) gets in without a step-up but still cools down', async () => {
      const v = await person('198.51.100.40');
      await login('198.51.100.41', v.email, v.password).expect(200);
      expect(await refusal(v.id)).toMatchObject({ code: 'COOLING_PERIOD_ACTIVE', reason: 'new_device' });
      await advance(72 * 3600 + 1);
    });

    it('asks a TOTP user for the TOTP code instead', async () => {
      const v = await person();
      const { secret } = await enrollTotp(v);
      await confirmTotp(v, await totpCode(secret)).expect(204);
      const res = await login(ATTACKER, v.email, v.password).expect(401);
      expect(res.body.methods).toEqual(['totp']);
      expect(await lastMail(t, v.email, 'step_up_code')).toBeUndefined();
      await advance(30);
      await t
        .http()
        .post('/auth/step-up')
        .send({ challengeId: res.body.challengeId, code: await totpCode(secret) })
        .expect(200);
      await advance(72 * 3600 + 1);
    });

    it('a challenge opened with the old password cannot be completed after the owner resets it', async () => {
      const v = await person();
      const { challengeId } = (await login(ATTACKER, v.email, v.password).expect(401)).body;
      const { code } = (await lastMail(t, v.email, 'step_up_code'))!.data;
      await t.http().post('/auth/password/reset-request').send({ email: v.email }).expect(202);
      const { token } = (await lastMail(t, v.email, 'password_reset'))!.data;
      await t.http().post('/auth/password/reset').set('X-Forwarded-For', v.ip).send({ token, newPassword: strongPassword() }).expect(204);
      const res = await t.http().post('/auth/step-up').set('X-Forwarded-For', ATTACKER).send({ challengeId, code }).expect(401);
      expect(res.body.code).toBe('INVALID_TOKEN');
      expect(await t.sql('SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL', [v.id])).toEqual([]);
      await advance(5 * 86400 + 1);
    });
  });

  describe('password reset, then an attempt to move credits at once', () => {
    it('is refused with 423 COOLING_PERIOD_ACTIVE for every outgoing action for 5 days', async () => {
      const v = await person();
      await t.http().post('/auth/password/reset-request').send({ email: v.email }).expect(202);
      const { token } = (await lastMail(t, v.email, 'password_reset'))!.data;
      const newPassword = strongPassword();
      await t.http().post('/auth/password/reset').set('X-Forwarded-For', ATTACKER).send({ token, newPassword }).expect(204);
      const resetAt = (await nowSeconds()) * 1000;

      const refused = await refusal(v.id);
      expect(refused).toMatchObject({ code: 'COOLING_PERIOD_ACTIVE', status: 423, reason: 'password_reset', action: 'credit_transfer' });
      expect(Math.abs(Date.parse(refused!.until as string) - resetAt - 5 * 86400_000)).toBeLessThan(5000);
      for (const action of ['item_gift', 'reseller_confirm', 'bond_release', 'payout']) {
        await expect(guard.assertMayMoveValue(v.id, action)).rejects.toMatchObject({ code: 'COOLING_PERIOD_ACTIVE' });
      }
      expect((await lastMail(t, v.email, 'security.password_reset'))?.text).toContain('5 days');

      await advance(5 * 86400 - 60);
      expect(await refusal(v.id)).toMatchObject({ code: 'COOLING_PERIOD_ACTIVE' });
      await advance(61);
      expect(await refusal(v.id)).toBeNull();
    });

    it('changing the email starts the same cooling period', async () => {
      const v = await person();
      await authed('post', '/me/email', v.accessToken)
        .send({ email: uniqueEmail('moved') })
        .expect(200);
      expect(await refusal(v.id)).toMatchObject({ code: 'COOLING_PERIOD_ACTIVE', reason: 'email_change' });
      await advance(5 * 86400 + 1);
    });
  });

  describe('a replayed refresh token', () => {
    it('ends the whole session family, is recorded and notified', async () => {
      const v = await person();
      const rotated = await t.http().post('/auth/refresh').send({ refreshToken: v.refreshToken }).expect(200);
      await t.http().post('/auth/refresh').set('X-Forwarded-For', ATTACKER).send({ refreshToken: v.refreshToken }).expect(401);
      await t.http().post('/auth/refresh').send({ refreshToken: rotated.body.refreshToken }).expect(401);
      await authed('get', '/me', rotated.body.accessToken).expect(401);
      expect(await lastMail(t, v.email, 'security.refresh_token_reuse')).toBeDefined();
      const again = await login(v.ip, v.email, v.password, v.deviceToken).expect(200);
      expect(await events({ ...v, accessToken: again.body.accessToken })).toContain('refresh_token_reuse');
    });
  });

  describe('TOTP', () => {
    it('stores the secret encrypted; a dump alone does not reveal it', async () => {
      const v = await person();
      const { secret, otpauthUrl } = await enrollTotp(v);
      expect(secret).toMatch(/^[A-Z2-7]{16,}$/);
      expect(otpauthUrl).toContain(`secret=${secret}`);
      const [row] = await t.sql<{ secret_ciphertext: Buffer }>('SELECT secret_ciphertext FROM totp_credentials WHERE user_id = $1', [v.id]);
      expect(row.secret_ciphertext.toString('latin1')).not.toContain(secret.slice(0, 8));
      expect(row.secret_ciphertext.toString('hex')).not.toContain(Buffer.from(secret).toString('hex').slice(0, 16));
      // Unconfirmed enrolment is not on yet.
      expect(await twoFactorEnabled(v)).toBe(false);
    });

    it('a code of a secret that a re-enrolment replaced meanwhile does not turn the new secret on', async () => {
      const v = await person();
      const enroll = () => authed('post', '/auth/2fa/totp/enroll', v.accessToken).expect(200);
      const first = (await enroll()).body.secret as string;
      // The second enrolment lands between the confirmation's read of the secret and its write.
      const query = t.dataSource.query.bind(t.dataSource);
      let second: Promise<string> | undefined;
      const spy = jest.spyOn(t.dataSource, 'query').mockImplementation(async (sql, params, runner) => {
        const rows = await query(sql, params, runner);
        if (!second && sql.includes('SELECT secret_ciphertext')) {
          second = enroll().then((r) => r.body.secret as string);
          await second;
        }
        return rows;
      });
      try {
        await confirmTotp(v, await totpCode(first)).expect(400);
      } finally {
        spy.mockRestore();
      }
      expect(await twoFactorEnabled(v)).toBe(false);
      await confirmTotp(v, await totpCode(await second!)).expect(204);
    });

    it('refuses an expired code and a reused code, for confirmation and re-authentication', async () => {
      const v = await person();
      const { secret } = await enrollTotp(v);
      const stale = await totpCode(secret, -120);
      expect((await confirmTotp(v, stale).expect(400)).body.errors[0].field).toBe('code');
      const code = await totpCode(secret);
      await confirmTotp(v, code).expect(204);
      expect(await twoFactorEnabled(v)).toBe(true);
      await authed('post', '/auth/2fa/totp/enroll', v.accessToken).expect(409);

      // The code that confirmed the enrolment cannot be used again.
      expect((await authed('post', '/auth/reauth', v.accessToken).send({ totp: code }).expect(401)).body.code).toBe('INVALID_CREDENTIALS');
      await advance(30);
      const next = await totpCode(secret);
      const [first, second] = await Promise.all([
        authed('post', '/auth/reauth', v.accessToken).send({ totp: next }),
        authed('post', '/auth/reauth', v.accessToken).send({ totp: next }),
      ]);
      expect([first.status, second.status].sort()).toEqual([204, 401]);
      await authed('post', '/auth/reauth', v.accessToken)
        .send({ totp: await totpCode(secret, -120) })
        .expect(401);
    });

    it('cannot be disabled without a recent re-authentication; disabling cools the account for 7 days', async () => {
      const v = await person();
      const { secret } = await enrollTotp(v);
      await confirmTotp(v, await totpCode(secret)).expect(204);
      await advance(6 * 60);
      const refused = await authed('post', '/auth/2fa/totp/disable', v.accessToken)
        .send({ code: await totpCode(secret) })
        .expect(401);
      expect(refused.body.code).toBe('REAUTH_REQUIRED');
      expect(await twoFactorEnabled(v)).toBe(true);

      await authed('post', '/auth/reauth', v.accessToken).send({ password: v.password }).expect(204);
      await authed('post', '/auth/2fa/totp/disable', v.accessToken)
        .send({ code: '000000' === (await totpCode(secret)) ? '111111' : '000000' })
        .expect(400);
      await authed('post', '/auth/2fa/totp/disable', v.accessToken)
        .send({ code: await totpCode(secret) })
        .expect(204);
      expect(await twoFactorEnabled(v)).toBe(false);
      const cooling = await refusal(v.id);
      expect(cooling).toMatchObject({ code: 'COOLING_PERIOD_ACTIVE', reason: 'totp_disabled' });
      expect(Date.parse(cooling!.until as string) - (await nowSeconds()) * 1000).toBeGreaterThan(6.99 * 86400_000);
      expect(await events(v)).toEqual(expect.arrayContaining(['totp_enabled', 'totp_disabled']));
      expect(await lastMail(t, v.email, 'security.totp_disabled')).toBeDefined();
      await advance(7 * 86400 + 1);
    });
  });

  describe('freeze and admin holds', () => {
    it('freezes at once; unfreezing takes 24 hours; freezing again cancels the unfreeze', async () => {
      const v = await person();
      await authed('post', '/me/unfreeze', v.accessToken).expect(409);
      const frozen = await authed('post', '/me/freeze', v.accessToken).expect(200);
      expect(frozen.body).toMatchObject({ frozen: true, unfreezeAt: null });
      expect(await refusal(v.id)).toMatchObject({ code: 'ACCOUNT_FROZEN', status: 423 });

      const unfreeze = await authed('post', '/me/unfreeze', v.accessToken).expect(202);
      expect(Date.parse(unfreeze.body.unfreezeAt) - (await nowSeconds()) * 1000).toBeGreaterThan(23.9 * 3600_000);
      await advance(12 * 3600);
      expect(await refusal(v.id)).toMatchObject({ code: 'ACCOUNT_FROZEN', unfreezeAt: unfreeze.body.unfreezeAt });
      await advance(12 * 3600 + 1);
      expect(await refusal(v.id)).toBeNull();

      const again = await login(v.ip, v.email, v.password, v.deviceToken).expect(200);
      await authed('post', '/me/freeze', again.body.accessToken).expect(200);
      await authed('post', '/me/unfreeze', again.body.accessToken).expect(202);
      await authed('post', '/me/freeze', again.body.accessToken).expect(200);
      await advance(25 * 3600);
      expect(await refusal(v.id)).toMatchObject({ code: 'ACCOUNT_FROZEN', unfreezeAt: null });
    });

    it('admins put accounts on hold and release them, with the reason audited', async () => {
      const admin = await signInAdmin();
      const v = await person();
      const hold = (path: string, token: string, body: object) => authed('post', `/admin/users/${v.id}/${path}`, token).send(body);

      await hold('hold', v.accessToken, { reason: 'mine' }).expect(403);
      await hold('hold', admin, {}).expect(400);
      await hold('hold', admin, { reason: '   ' }).expect(400);
      await hold('release', admin, { reason: 'nothing to release' }).expect(409);
      const held = await hold('hold', admin, { reason: 'Chargeback ring investigation' }).expect(200);
      expect(held.body).toMatchObject({ onHold: true });
      await hold('hold', admin, { reason: 'twice' }).expect(409);
      await authed('post', '/me/freeze', v.accessToken).expect(200);
      // A hold is named first, ahead of the freeze.
      expect(await refusal(v.id)).toMatchObject({ code: 'ACCOUNT_ON_HOLD', status: 423 });

      await hold('release', admin, { reason: 'Cleared by review' }).expect(200);
      expect(await refusal(v.id)).toMatchObject({ code: 'ACCOUNT_FROZEN' });
      const audit = await t.sql<{ action: string; reason: string }>(
        `SELECT action, reason FROM audit_log WHERE subject_id = $1 AND action LIKE 'account.%' ORDER BY seq`,
        [v.id],
      );
      expect(audit).toEqual([
        { action: 'account.hold_placed', reason: 'Chargeback ring investigation' },
        { action: 'account.hold_released', reason: 'Cleared by review' },
      ]);
      await authed('post', '/admin/users/00000000-0000-4000-8000-000000000000/hold', admin).send({ reason: 'x' }).expect(404);
    });

    it("system holds join the caller's transaction, stack with the admin hold and are released by reference only", async () => {
      const admin = await signInAdmin();
      const v = await person();
      const hold = (reference: string) => ({ userId: v.id, reference, reason: `Test ${reference}` });
      const active = async () =>
        (
          await t.sql<{ reference: string | null }>(
            'SELECT reference FROM account_holds WHERE user_id = $1 AND released_at IS NULL ORDER BY placed_at, id',
            [v.id],
          )
        ).map((r) => r.reference);

      // Rolled back with the caller's transaction.
      await expect(
        t.dataSource.transaction(async (em) => {
          expect(await guard.placeSystemHold(em, hold('dispute:dp_a'))).toBe(true);
          throw new Error('rollback');
        }),
      ).rejects.toThrow('rollback');
      expect(await active()).toEqual([]);

      await t.dataSource.transaction(async (em) => {
        expect(await guard.placeSystemHold(em, hold('dispute:dp_a'))).toBe(true);
        expect(await guard.placeSystemHold(em, hold('dispute:dp_a'))).toBe(false);
        expect(await guard.placeSystemHold(em, hold('dispute:dp_b'))).toBe(true);
      });
      await authed('post', `/admin/users/${v.id}/hold`, admin).send({ reason: 'Manual review' }).expect(200);
      expect(await active()).toEqual(['dispute:dp_a', 'dispute:dp_b', null]);

      await t.dataSource.transaction(async (em) => {
        expect(await guard.releaseSystemHold(em, hold('dispute:dp_a'))).toBe(true);
        expect(await guard.releaseSystemHold(em, hold('dispute:dp_a'))).toBe(false);
        expect(await guard.releaseSystemHold(em, hold('dispute:dp_never'))).toBe(false);
        // Released for good: the same reference is not placed again.
        expect(await guard.placeSystemHold(em, hold('dispute:dp_a'))).toBe(false);
      });
      expect(await active()).toEqual(['dispute:dp_b', null]);
      expect(await refusal(v.id)).toMatchObject({ code: 'ACCOUNT_ON_HOLD' });
      await expect(t.dataSource.transaction((em) => guard.placeSystemHold(em, hold('admin')))).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });

      // An admin release without a reference lifts every hold, each audited.
      const released = await authed('post', `/admin/users/${v.id}/release`, admin).send({ reason: 'All clear' }).expect(200);
      expect(released.body).toMatchObject({ onHold: false, holds: [] });
      expect(await refusal(v.id)).toBeNull();
      const audit = await t.sql<{ action: string; actor_id: string | null; reference: string }>(
        `SELECT action, actor_id, data->>'reference' AS reference FROM audit_log WHERE subject_id = $1 AND action LIKE 'account.hold%' ORDER BY seq`,
        [v.id],
      );
      expect(audit.map((a) => [a.action, a.reference, a.actor_id === null])).toEqual([
        ['account.hold_placed', 'dispute:dp_a', true],
        ['account.hold_placed', 'dispute:dp_b', true],
        ['account.hold_placed', 'admin', false],
        ['account.hold_released', 'dispute:dp_a', true],
        ['account.hold_released', 'dispute:dp_b', false],
        ['account.hold_released', 'admin', false],
      ]);
      await authed('post', `/admin/users/${v.id}/release`, admin).send({ reason: 'x', reference: 'not a reference' }).expect(400);
    });

    it('the database keeps holds: never deleted, changed only by their release, an admin hold always has its admin', async () => {
      const v = await person();
      const [{ id }] = await t.sql<{ id: string }>(
        `INSERT INTO account_holds (user_id, reference, reason, placed_at) VALUES ($1, 'fraud:case_1', 'Test', now()) RETURNING id`,
        [v.id],
      );
      await expect(
        t.sql(`INSERT INTO account_holds (user_id, reason, placed_at) VALUES ($1, 'no admin', now())`, [v.id]),
      ).rejects.toMatchObject({ code: '23514' });
      await expect(
        t.sql(`INSERT INTO account_holds (user_id, reference, reason, placed_at) VALUES ($1, 'fraud:case_1', 'again', now())`, [v.id]),
      ).rejects.toMatchObject({ code: '23505' });
      await expect(t.sql(`UPDATE account_holds SET reason = 'edited' WHERE id = $1`, [id])).rejects.toMatchObject({ code: '23514' });
      await expect(t.sql(`DELETE FROM account_holds WHERE id = $1`, [id])).rejects.toMatchObject({ code: '23001' });
      await t.sql(`UPDATE account_holds SET released_at = now(), release_reason = 'done' WHERE id = $1`, [id]);
      await expect(t.sql(`UPDATE account_holds SET release_reason = 'changed' WHERE id = $1`, [id])).rejects.toMatchObject({
        code: '23514',
      });
    });
  });

  describe('security events', () => {
    it('lists the account history newest first, paginated, and the table is append-only', async () => {
      const v = await person();
      await authed('post', '/me/freeze', v.accessToken).expect(200);
      await authed('post', '/me/unfreeze', v.accessToken).expect(202);
      await authed('post', '/me/freeze', v.accessToken).expect(200);
      const page1 = await authed('get', '/me/security-events?limit=2', v.accessToken).expect(200);
      expect(page1.body.items.map((e: { kind: string }) => e.kind)).toEqual(['account_frozen', 'unfreeze_requested']);
      const page2 = await authed('get', `/me/security-events?limit=2&cursor=${page1.body.nextCursor}`, v.accessToken).expect(200);
      expect(page2.body).toMatchObject({ items: [{ kind: 'account_frozen', occurredAt: expect.any(String) }], nextCursor: null });
      await authed('get', '/me/security-events?cursor=WyJ4Il0', v.accessToken).expect(400);
      await expect(t.sql('UPDATE security_events SET kind = kind WHERE user_id = $1', [v.id])).rejects.toThrow(/append-only/);
      await expect(t.sql('DELETE FROM security_events WHERE user_id = $1', [v.id])).rejects.toThrow(/append-only/);
    });
  });
});

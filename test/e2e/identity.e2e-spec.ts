import { JwtService } from '@nestjs/jwt';
import { SessionsService } from '../../src/identity/sessions.service';
import { PasswordHasherService } from '../../src/identity/passwords/password-hasher.service';
import { bearer, lastMail, signUp, strongPassword, uniqueEmail } from '../support/auth';
import { TestApp, useTestApp } from '../support/test-app';

describe('identity: registration, login, tokens, sessions, passwords, email', () => {
  let t: TestApp;
  useTestApp((app) => (t = app));

  // Clients send back the device token of their earlier login (API.md "Device").
  const login = (email: string, password: string, deviceToken?: string) =>
    t
      .http()
      .post('/auth/login')
      .send({ email, password, ...(deviceToken ? { deviceToken } : {}) });
  const me = (token: string) =>
    t
      .http()
      .get('/me')
      .set(...bearer(token));
  const refresh = (refreshToken: string) => t.http().post('/auth/refresh').send({ refreshToken });
  const sessions = (token: string) =>
    t
      .http()
      .get('/auth/sessions')
      .set(...bearer(token));
  const postAs = (token: string, path: string, body: object) =>
    t
      .http()
      .post(path)
      .set(...bearer(token))
      .send(body);
  const revokeSession = (id: string, token: string) =>
    t
      .http()
      .delete(`/auth/sessions/${id}`)
      .set(...bearer(token));

  describe('registration', () => {
    it('creates a buyer with an argon2id hash and mails a verification token', async () => {
      const email = uniqueEmail('reg');
      const res = await t
        .http()
        .post('/auth/register')
        .send({ email, password: strongPassword(), displayName: '  Ada Lovelace ' })
        .expect(201);
      expect(res.body).toEqual({ id: expect.any(String), email, displayName: 'Ada Lovelace', roles: ['buyer'] });
      const [row] = await t.sql<{ password_hash: string; email_verified_at: Date | null }>(
        'SELECT password_hash, email_verified_at FROM users WHERE id = $1',
        [res.body.id],
      );
      expect(row.password_hash).toMatch(/^\$argon2id\$/);
      expect(row.email_verified_at).toBeNull();
      const mail = await lastMail(t, email, 'email_verification');
      expect(mail?.data.token).toMatch(/^[\w-]{40,}$/);
      const [stored] = await t.sql<{ n: number }>(
        `SELECT count(*)::int AS n FROM user_tokens WHERE user_id = $1 AND token_hash = sha256(convert_to($2, 'UTF8'))`,
        [res.body.id, mail!.data.token],
      );
      expect(stored.n).toBe(1); // only the hash is kept
    });

    it('answers 409 CONFLICT for an email that exists, whatever its case', async () => {
      const email = uniqueEmail('dup');
      await t.http().post('/auth/register').send({ email, password: strongPassword(), displayName: 'A' }).expect(201);
      const res = await t
        .http()
        .post('/auth/register')
        .send({ email: email.toUpperCase(), password: strongPassword(), displayName: 'B' })
        .expect(409);
      expect(res.body.code).toBe('CONFLICT');
    });

    it('lets exactly one of many concurrent registrations of one email through', async () => {
      const email = uniqueEmail('race');
      const results = await Promise.all(
        Array.from({ length: 6 }, () => t.http().post('/auth/register').send({ email, password: strongPassword(), displayName: 'Racer' })),
      );
      expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
      const [{ n }] = await t.sql<{ n: number }>('SELECT count(*)::int AS n FROM users WHERE email = $1', [email]);
      expect(n).toBe(1);
    });

    it('rejects common and short passwords with VALIDATION_FAILED on the password field', async () => {
      for (const password of ['password', 'iloveyou', 'Qwertyuiop', 'short']) {
        const res = await t.http().post('/auth/register').send({ email: uniqueEmail(), password, displayName: 'X' }).expect(400);
        expect(res.body.code).toBe('VALIDATION_FAILED');
        expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'password' })]));
      }
    });
  });

  describe('bad input never gives a 500 and changes nothing', () => {
    const weird = [
      "' OR 1=1 --",
      "robert@example.com'); DROP TABLE users;--",
      '\u0000',
      'a\u0000b@example.com',
      '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ☃ 中文 עברית',
      '\ud800',
      'x'.repeat(5000),
      '',
    ];
    const values: unknown[] = [...weird, 42, true, null, [], {}, ['a'], { $gt: '' }];

    it('register: wrong types, unknown fields, hostile and huge strings', async () => {
      const before = await t.sql<{ n: number }>('SELECT count(*)::int AS n FROM users');
      const bodies: unknown[] = [
        {},
        [],
        { email: uniqueEmail(), password: strongPassword(), displayName: 'X', isAdmin: true },
        { email: uniqueEmail(), password: strongPassword(), displayName: 'X', roles: ['admin'] },
        ...values.flatMap((v) => [
          { email: v, password: strongPassword(), displayName: 'X' },
          { email: uniqueEmail(), password: v, displayName: 'X' },
          { email: uniqueEmail(), password: strongPassword(), displayName: v },
        ]),
      ];
      let created = 0;
      for (const body of bodies) {
        const res = await t
          .http()
          .post('/auth/register')
          .send(body as object);
        // SQL-ish and exotic strings are legitimate passwords and names; they must simply be stored as text.
        expect({ body, status: [201, 400].includes(res.status) ? '201 or 400' : res.status }).toEqual({ body, status: '201 or 400' });
        if (res.status === 201) {
          created++;
          const [row] = await t.sql<{ display_name: string }>('SELECT display_name FROM users WHERE id = $1', [res.body.id]);
          expect(row.display_name).toBe((body as { displayName: string }).displayName);
          continue;
        }
        expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
        // A lone surrogate cannot even be encoded as UTF-8 by the client: the body is then malformed.
        expect(['VALIDATION_FAILED', 'MALFORMED_REQUEST']).toContain(res.body.code);
      }
      // Only the legitimate ones: the two SQL-ish and the unicode string, as a password and as a name. A NUL
      // is refused in every string of a request, a password's included (one rule, docs/api.md "Values").
      expect(created).toBe(6);
      const after = await t.sql<{ n: number }>('SELECT count(*)::int AS n FROM users');
      expect(after[0].n).toBe(before[0].n + created);
    });

    it('accepts unicode where it is legitimate', async () => {
      const email = uniqueEmail('uni');
      const res = await t
        .http()
        .post('/auth/register')
        .send({ email, password: 'pässwörd-日本語-🦊', displayName: 'Zoë 中文 🦊' })
        .expect(201);
      expect(res.body.displayName).toBe('Zoë 中文 🦊');
      // The same password typed in a different Unicode normalization form still matches.
      await login(email, 'pa\u0308sswo\u0308rd-日本語-🦊').expect(200);
    });

    it('login: wrong types, unknown fields, hostile and huge strings', async () => {
      const bodies: unknown[] = [
        {},
        [],
        { email: uniqueEmail(), password: 'x', extra: 1 },
        ...values.flatMap((v) => [
          { email: v, password: 'whatever-password' },
          { email: uniqueEmail(), password: v },
          { email: uniqueEmail(), password: 'whatever-password', deviceToken: v },
        ]),
      ];
      for (const body of bodies) {
        const res = await t
          .http()
          .post('/auth/login')
          .send(body as object);
        expect(res.status).toBeLessThan(500);
        expect([400, 401]).toContain(res.status);
        expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      }
      await t.http().post('/auth/login').set('Content-Type', 'application/json').send('{"email": "a@b.c", ').expect(400);
      await t.http().post('/auth/login').set('Content-Type', 'text/plain').send('email=a@b.c&password=x').expect(415);
    });

    it('refresh, reset and verify: hostile tokens are refused without a 500', async () => {
      for (const v of values) {
        for (const [path, body] of [
          ['/auth/refresh', { refreshToken: v }],
          ['/auth/password/reset', { token: v, newPassword: strongPassword() }],
          ['/auth/email/verify', { token: v }],
          ['/auth/password/reset-request', { email: v }],
        ] as const) {
          const res = await t.http().post(path).send(body);
          expect(res.status).toBeLessThan(500);
        }
      }
    });
  });

  describe('login', () => {
    it('returns tokens and the user, and the access token opens GET /me', async () => {
      const u = await signUp(t, { displayName: 'Grace' });
      const res = await login(u.email, u.password, u.deviceToken).expect(200);
      expect(res.body).toMatchObject({
        accessToken: expect.any(String),
        refreshToken: expect.any(String),
        user: { id: u.id, email: u.email, displayName: 'Grace', roles: ['buyer'] },
      });
      const profile = await me(res.body.accessToken).expect(200);
      expect(profile.body).toMatchObject({ id: u.id, email: u.email, roles: ['buyer'], emailVerified: false });
    });

    it('accepts the email in any case', async () => {
      const u = await signUp(t);
      await login(u.email.toUpperCase(), u.password, u.deviceToken).expect(200);
    });

    it('answers a wrong password and an unknown email with the same generic 401', async () => {
      const u = await signUp(t);
      const wrong = await login(u.email, 'not-the-password').expect(401);
      const unknown = await login(uniqueEmail('nobody'), 'not-the-password').expect(401);
      const strip = (b: Record<string, unknown>) => ({ ...b, requestId: undefined, instance: undefined });
      expect(strip(wrong.body)).toEqual(strip(unknown.body));
      expect(wrong.body.code).toBe('INVALID_CREDENTIALS');
    });

    it('takes as long for an unknown email as for a wrong password (dummy hash)', async () => {
      // Users inserted directly with one real hash, so that each email is tried once (no lockout).
      const hash = (await t.sql<{ password_hash: string }>('SELECT password_hash FROM users LIMIT 1'))[0].password_hash;
      const known: string[] = [];
      for (let i = 0; i < 6; i++) {
        const email = uniqueEmail('timing');
        await t.sql(
          `INSERT INTO users (email, display_name, password_hash, created_at, password_changed_at, updated_at) VALUES ($1, 'T', $2, now(), now(), now())`,
          [email, hash],
        );
        known.push(email);
      }
      const time = async (email: string) => {
        const start = process.hrtime.bigint();
        await login(email, 'definitely-wrong-password').expect(401);
        return Number(process.hrtime.bigint() - start) / 1e6;
      };
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      const knownTimes: number[] = [];
      const unknownTimes: number[] = [];
      for (const email of known) {
        knownTimes.push(await time(email));
        unknownTimes.push(await time(uniqueEmail('ghost')));
      }
      // Without the dummy verification an unknown email answers in a small fraction of the time.
      expect(median(unknownTimes)).toBeGreaterThan(median(knownTimes) * 0.5);
    });
  });

  describe('access tokens and the guard', () => {
    it('refuses a missing, malformed or forged token with 401 UNAUTHENTICATED', async () => {
      const none = await t.http().get('/me').expect(401);
      expect(none.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(none.body.code).toBe('UNAUTHENTICATED');
      await t.http().get('/me').set('Authorization', 'Bearer not.a.jwt').expect(401);
      const u = await signUp(t);
      const [h, p] = u.accessToken.split('.');
      const forged = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), sub: '00000000-0000-0000-0000-000000000000' })).toString('base64url')}.${u.accessToken.split('.')[2]}`;
      await t
        .http()
        .get('/me')
        .set(...bearer(forged))
        .expect(401);
      // The right secret but another algorithm, or none: refused; the scheme's case does not matter.
      const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as object;
      const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${p}.`;
      for (const token of [t.app.get(JwtService).sign(claims, { algorithm: 'HS512', secret: t.config.jwtSecret }), unsigned]) {
        await t
          .http()
          .get('/me')
          .set(...bearer(token))
          .expect(401);
      }
      await t.http().get('/me').set('Authorization', `bearer ${u.accessToken}`).expect(200);
      await t.http().get('/me').set('Authorization', `Basic ${u.accessToken}`).expect(401);
    });

    it('expires access tokens after 15 minutes of the business clock', async () => {
      const u = await signUp(t);
      await me(u.accessToken).expect(200);
      await t
        .http()
        .post('/dev/clock')
        .send({ advanceSeconds: 15 * 60 + 1 })
        .expect(200);
      const res = await me(u.accessToken).expect(401);
      expect(res.body.code).toBe('UNAUTHENTICATED');
      const pair = await refresh(u.refreshToken).expect(200);
      await me(pair.body.accessToken).expect(200);
    });

    it('forbids an admin route to a buyer (403)', async () => {
      const u = await signUp(t);
      const res = await t
        .http()
        .post(`/admin/users/${u.id}/roles`)
        .set(...bearer(u.accessToken))
        .send({ add: ['creator'] })
        .expect(403);
      expect(res.body.code).toBe('FORBIDDEN');
    });
  });

  describe('refresh tokens', () => {
    it('rotate: each refresh returns a new pair and retires the presented token', async () => {
      const u = await signUp(t);
      const first = await refresh(u.refreshToken).expect(200);
      expect(first.body.refreshToken).not.toBe(u.refreshToken);
      expect(first.body.accessToken).toEqual(expect.any(String));
      const second = await refresh(first.body.refreshToken).expect(200);
      await me(second.body.accessToken).expect(200);
      const rows = await t.sql<{ rotated: number; live: number }>(
        `SELECT count(*) FILTER (WHERE rotated_at IS NOT NULL)::int AS rotated, count(*) FILTER (WHERE rotated_at IS NULL)::int AS live
         FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE s.user_id = $1`,
        [u.id],
      );
      expect(rows[0]).toEqual({ rotated: 2, live: 1 });
    });

    it('reuse of a rotated token revokes the whole family: every token of it stops working', async () => {
      const u = await signUp(t);
      const other = await login(u.email, u.password, u.deviceToken).expect(200); // a second, unrelated session
      const next = await refresh(u.refreshToken).expect(200);
      const reuse = await refresh(u.refreshToken).expect(401);
      expect(reuse.body.code).toBe('INVALID_TOKEN');
      await refresh(next.body.refreshToken).expect(401);
      await me(next.body.accessToken).expect(401);
      await me(u.accessToken).expect(401);
      // The other session is a different family and keeps working.
      await me(other.body.accessToken).expect(200);
      await refresh(other.body.refreshToken).expect(200);
      const [s] = await t.sql<{ revoked_reason: string }>(
        "SELECT revoked_reason FROM sessions s JOIN refresh_tokens r ON r.session_id = s.id WHERE r.token_hash = sha256(convert_to($1, 'UTF8'))",
        [u.refreshToken],
      );
      expect(s.revoked_reason).toBe('refresh_token_reuse');
    });

    it('concurrent refreshes with one token: one wins, the rest count as reuse and end the family', async () => {
      const u = await signUp(t);
      const results = await Promise.all(Array.from({ length: 5 }, () => refresh(u.refreshToken)));
      const ok = results.filter((r) => r.status === 200);
      expect(ok).toHaveLength(1);
      expect(results.filter((r) => r.status === 401)).toHaveLength(4);
      await refresh(ok[0].body.refreshToken).expect(401);
      const live = await t.sql(
        'SELECT 1 FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE s.user_id = $1 AND t.rotated_at IS NULL',
        [u.id],
      );
      expect(live).toHaveLength(1); // the family still has one unretired token, but its session is revoked
    });

    it('refuses an unknown or expired refresh token', async () => {
      await refresh('A'.repeat(43)).expect(401);
      const u = await signUp(t);
      await t
        .http()
        .post('/dev/clock')
        .send({ advanceSeconds: t.config.refreshTokenTtlDays * 86400 + 60 })
        .expect(200);
      const res = await refresh(u.refreshToken).expect(401);
      expect(res.body.code).toBe('INVALID_TOKEN');
    });
  });

  describe('sessions', () => {
    it('logout revokes the current session only (204)', async () => {
      const u = await signUp(t);
      const other = await login(u.email, u.password, u.deviceToken).expect(200);
      await t
        .http()
        .post('/auth/logout')
        .set(...bearer(u.accessToken))
        .expect(204);
      await me(u.accessToken).expect(401);
      await refresh(u.refreshToken).expect(401);
      await me(other.body.accessToken).expect(200);
    });

    it('answers access checks asked together (one statement) each for its own session: a revoked one, a mismatched user, a repeat', async () => {
      const [a, b] = [await signUp(t), await signUp(t)];
      await t
        .http()
        .post('/auth/logout')
        .set(...bearer(b.accessToken))
        .expect(204);
      const claims = (token: string) => t.app.get(JwtService).decode<{ sub: string; sid: string }>(token);
      const [ca, cb] = [claims(a.accessToken), claims(b.accessToken)];
      const service = t.app.get(SessionsService);
      const found = await Promise.all([
        service.principal(ca.sub, ca.sid),
        service.principal(cb.sub, cb.sid),
        service.principal(ca.sub, cb.sid),
        service.principal(ca.sub, ca.sid),
      ]);
      expect(found.map((p) => p && { id: p.user.id, sessionId: p.user.sessionId })).toEqual([
        { id: a.id, sessionId: ca.sid },
        null,
        null,
        { id: a.id, sessionId: ca.sid },
      ]);
    });

    it('lists the live sessions and revokes one by id; other users cannot touch them', async () => {
      const u = await signUp(t);
      const second = await login(u.email, u.password, u.deviceToken).expect(200);
      const list = await sessions(u.accessToken).expect(200);
      expect(list.body.items).toHaveLength(2);
      const current = list.body.items.find((s: { current: boolean }) => s.current);
      const other = list.body.items.find((s: { current: boolean }) => !s.current);
      expect(current).toMatchObject({ id: expect.any(String), createdAt: expect.any(String), ip: expect.any(String) });

      const stranger = await signUp(t);
      await revokeSession(other.id, stranger.accessToken).expect(404);
      await me(second.body.accessToken).expect(200);

      await revokeSession(other.id, u.accessToken).expect(204);
      await me(second.body.accessToken).expect(401);
      await revokeSession(other.id, u.accessToken).expect(404);
      await revokeSession('not-a-uuid', u.accessToken).expect(400);
      const after = await sessions(u.accessToken).expect(200);
      expect(after.body.items.map((s: { id: string }) => s.id)).toEqual([current.id]);
    });
  });

  describe('password change', () => {
    it('needs the current password, rejects a common new one, and revokes the other sessions', async () => {
      const u = await signUp(t);
      const other = await login(u.email, u.password, u.deviceToken).expect(200);
      const newPassword = strongPassword();
      const wrong = await postAs(u.accessToken, '/auth/password/change', { currentPassword: 'nope-nope', newPassword }).expect(401);
      expect(wrong.body.code).toBe('INVALID_CREDENTIALS');
      const common = await postAs(u.accessToken, '/auth/password/change', {
        currentPassword: u.password,
        newPassword: 'password123',
      }).expect(400);
      expect(common.body.errors[0].field).toBe('newPassword');
      await me(other.body.accessToken).expect(200);

      await postAs(u.accessToken, '/auth/password/change', { currentPassword: u.password, newPassword }).expect(204);
      await me(u.accessToken).expect(200);
      await refresh(u.refreshToken).expect(200);
      await me(other.body.accessToken).expect(401);
      await refresh(other.body.refreshToken).expect(401);
      await login(u.email, u.password, u.deviceToken).expect(401);
      await login(u.email, newPassword, u.deviceToken).expect(200);
    });
  });

  describe('password reset', () => {
    it('answers 202 whether or not the account exists, and mails a token only when it does', async () => {
      const ghost = uniqueEmail('ghost');
      await t.http().post('/auth/password/reset-request').send({ email: ghost }).expect(202);
      expect((await t.http().get(`/dev/mailbox/${ghost}`).expect(200)).body.items).toEqual([]);
      const u = await signUp(t);
      await t.http().post('/auth/password/reset-request').send({ email: u.email.toUpperCase() }).expect(202);
      expect((await lastMail(t, u.email, 'password_reset'))?.data.token).toEqual(expect.any(String));
    });

    it('sets the new password with a single-use token and ends every session', async () => {
      const u = await signUp(t);
      const other = await login(u.email, u.password, u.deviceToken).expect(200);
      await t.http().post('/auth/password/reset-request').send({ email: u.email }).expect(202);
      const { token } = (await lastMail(t, u.email, 'password_reset'))!.data;
      const common = await t.http().post('/auth/password/reset').send({ token, newPassword: 'letmein123' }).expect(400);
      expect(common.body.errors[0].field).toBe('newPassword');

      const newPassword = strongPassword();
      await t.http().post('/auth/password/reset').send({ token, newPassword }).expect(204);
      await me(u.accessToken).expect(401);
      await me(other.body.accessToken).expect(401);
      await refresh(u.refreshToken).expect(401);
      const again = await t.http().post('/auth/password/reset').send({ token, newPassword: strongPassword() }).expect(401);
      expect(again.body.code).toBe('INVALID_TOKEN');
      await login(u.email, u.password, u.deviceToken).expect(401);
      await login(u.email, newPassword, u.deviceToken).expect(200);
    });

    it('refuses an expired reset token (one hour)', async () => {
      const u = await signUp(t);
      await t.http().post('/auth/password/reset-request').send({ email: u.email }).expect(202);
      const { token } = (await lastMail(t, u.email, 'password_reset'))!.data;
      await t.http().post('/dev/clock').send({ advanceSeconds: 3601 }).expect(200);
      await t.http().post('/auth/password/reset').send({ token, newPassword: strongPassword() }).expect(401);
      await login(u.email, u.password, u.deviceToken).expect(200);
    });
  });

  describe('email verification and change', () => {
    it('verifies the address once with the mailed token', async () => {
      const u = await signUp(t);
      const { token } = (await lastMail(t, u.email, 'email_verification'))!.data;
      await t.http().post('/auth/email/verify').send({ token }).expect(204);
      expect((await me(u.accessToken).expect(200)).body.emailVerified).toBe(true);
      await t.http().post('/auth/email/verify').send({ token }).expect(401);
    });

    it('changing the email needs a recent re-authentication and asks for verification again', async () => {
      const u = await signUp(t);
      const { token: oldToken } = (await lastMail(t, u.email, 'email_verification'))!.data;
      await t
        .http()
        .post('/dev/clock')
        .send({ advanceSeconds: 6 * 60 })
        .expect(200);
      const newEmail = uniqueEmail('moved');
      const refused = await postAs(u.accessToken, '/me/email', { email: newEmail }).expect(401);
      expect(refused.body.code).toBe('REAUTH_REQUIRED');
      await postAs(u.accessToken, '/auth/reauth', { password: 'wrong-password' }).expect(401);
      await postAs(u.accessToken, '/auth/reauth', { password: u.password, totp: '123456' }).expect(400);
      await postAs(u.accessToken, '/auth/reauth', { password: u.password }).expect(204);
      const res = await postAs(u.accessToken, '/me/email', { email: newEmail }).expect(200);
      expect(res.body).toMatchObject({ email: newEmail, emailVerified: false });
      expect(await lastMail(t, u.email, 'email_changed')).toBeDefined();
      // A token sent to the former address no longer verifies anything.
      await t.http().post('/auth/email/verify').send({ token: oldToken }).expect(401);
      const { token } = (await lastMail(t, newEmail, 'email_verification'))!.data;
      await t.http().post('/auth/email/verify').send({ token }).expect(204);
      await login(newEmail, u.password, u.deviceToken).expect(200);

      const taken = await signUp(t);
      await postAs(u.accessToken, '/me/email', { email: taken.email }).expect(409);
    });
  });

  describe('a password change or reset racing other requests', () => {
    afterEach(() => jest.restoreAllMocks());

    const resetToken = async (email: string) => {
      await t.http().post('/auth/password/reset-request').send({ email }).expect(202);
      return (await lastMail(t, email, 'password_reset'))!.data.token;
    };
    const changePassword = (token: string, currentPassword: string, newPassword: string) =>
      t
        .http()
        .post('/auth/password/change')
        .set(...bearer(token))
        .send({ currentPassword, newPassword });

    /** Runs `during` right after the next password verification, before that request goes on. */
    const afterNextVerify = (during: () => Promise<unknown>) => {
      const hasher = t.app.get(PasswordHasherService);
      const verify = hasher.verify.bind(hasher);
      jest.spyOn(hasher, 'verify').mockImplementationOnce(async (hash, password) => {
        const ok = await verify(hash, password);
        await during();
        return ok;
      });
    };

    it('a login that checked the old password while a reset went through gets no session', async () => {
      const u = await signUp(t);
      const token = await resetToken(u.email);
      const newPassword = strongPassword();
      afterNextVerify(() => t.http().post('/auth/password/reset').send({ token, newPassword }).expect(204));
      const res = await login(u.email, u.password, u.deviceToken).expect(401);
      expect(res.body.code).toBe('INVALID_CREDENTIALS');
      expect(await t.sql('SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL', [u.id])).toEqual([]);
      await login(u.email, newPassword, u.deviceToken).expect(200);
    });

    it('of two racing password changes, the one whose current password was replaced meanwhile is refused', async () => {
      const u = await signUp(t);
      const other = await login(u.email, u.password, u.deviceToken).expect(200);
      const winner = strongPassword();
      const loser = strongPassword();
      afterNextVerify(() => changePassword(other.body.accessToken, u.password, winner).expect(204));
      const res = await changePassword(u.accessToken, u.password, loser).expect(401);
      expect(res.body.code).toBe('INVALID_CREDENTIALS');
      await login(u.email, loser, u.deviceToken).expect(401);
      await login(u.email, winner, u.deviceToken).expect(200);
    });

    it('a password change retires the reset links already mailed', async () => {
      const u = await signUp(t);
      const token = await resetToken(u.email);
      const changed = strongPassword();
      await changePassword(u.accessToken, u.password, changed).expect(204);
      const res = await t.http().post('/auth/password/reset').send({ token, newPassword: strongPassword() }).expect(401);
      expect(res.body.code).toBe('INVALID_TOKEN');
      await login(u.email, changed, u.deviceToken).expect(200);
    });
  });

  describe('session lifetime', () => {
    it('ends a session SESSION_MAX_DAYS after sign-in, however often it was refreshed', async () => {
      const u = await signUp(t);
      const { sessionMaxDays } = t.config.security;
      const step = t.config.refreshTokenTtlDays - 1;
      let token = u.refreshToken;
      let elapsed = 0;
      for (; elapsed + step < sessionMaxDays; elapsed += step) {
        await t
          .http()
          .post('/dev/clock')
          .send({ advanceSeconds: step * 86400 })
          .expect(200);
        token = (await refresh(token).expect(200)).body.refreshToken;
      }
      await t
        .http()
        .post('/dev/clock')
        .send({ advanceSeconds: (sessionMaxDays - elapsed) * 86400 + 60 })
        .expect(200);
      const res = await refresh(token).expect(401);
      expect(res.body.code).toBe('INVALID_TOKEN');
      await login(u.email, u.password, u.deviceToken).expect(200);
    });
  });
});

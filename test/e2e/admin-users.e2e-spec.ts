import { ensureAdmin } from '../../src/boot';
import { bearer, signUp, strongPassword, uniqueEmail } from '../support/auth';
import { grantResellerRole } from '../support/reseller-fixtures';
import { runCliIn } from '../support/in-process-cli';
import { TestApp, useTestApp } from '../support/test-app';

describe('first admin and role management', () => {
  let t: TestApp;
  let admin: { id: string; email: string; password: string; accessToken: string };
  useTestApp((app) => (t = app));

  const audit = (subjectId: string) =>
    t.sql<{ action: string; actor_id: string | null; reason: string | null; data: { role: string } }>(
      `SELECT action, actor_id, reason, data FROM audit_log WHERE subject_type = 'user' AND subject_id = $1 ORDER BY seq`,
      [subjectId],
    );

  describe('ensureAdmin (ADMIN_EMAIL at startup and the create-admin CLI)', () => {
    it('creates a verified admin account, audited, and is idempotent', async () => {
      const email = uniqueEmail('admin');
      const password = strongPassword();
      const first = await ensureAdmin(t.app, email, password, 'test');
      expect(first).toEqual({ userId: expect.any(String), created: true, promoted: false });
      const second = await ensureAdmin(t.app, email.toUpperCase(), strongPassword(), 'test');
      expect(second).toEqual({ userId: (first as { userId: string }).userId, created: false, promoted: false });

      const [row] = await t.sql<{ roles: string[]; email_verified_at: Date | null }>(
        'SELECT roles, email_verified_at FROM users WHERE email = $1',
        [email],
      );
      expect(row.roles).toEqual(['buyer', 'admin']);
      expect(row.email_verified_at).not.toBeNull();
      expect(await audit((first as { userId: string }).userId)).toEqual([
        { action: 'user.role_granted', actor_id: null, reason: 'test', data: { role: 'admin' } },
      ]);
      // The first password stands; the second call did not change it.
      const login = await t.http().post('/auth/login').send({ email, password }).expect(200);
      admin = { id: login.body.user.id, email, password, accessToken: login.body.accessToken };
    });

    it("promotes an existing account only with that account's own password, which stays as it was", async () => {
      const u = await signUp(t);
      const refused = await ensureAdmin(t.app, u.email, strongPassword(), 'cli create-admin');
      expect(refused).toEqual({ error: expect.stringMatching(/already exists and the password given is not its password/) });
      expect((await t.sql<{ roles: string[] }>('SELECT roles FROM users WHERE id = $1', [u.id]))[0].roles).toEqual(['buyer']);
      expect(await audit(u.id)).toEqual([]);

      const result = await ensureAdmin(t.app, u.email.toUpperCase(), u.password, 'cli create-admin');
      expect(result).toEqual({ userId: u.id, created: false, promoted: true });
      const res = await t.http().post('/auth/login').send({ email: u.email, password: u.password, deviceToken: u.deviceToken }).expect(200);
      expect(res.body.user.roles).toEqual(['buyer', 'admin']);
      expect((await audit(u.id)).map((a) => [a.action, a.data.role, a.reason])).toEqual([
        ['user.role_granted', 'admin', 'cli create-admin'],
      ]);
    });

    it('promotes once when several processes promote the same account at once', async () => {
      const u = await signUp(t);
      const results = await Promise.all(Array.from({ length: 3 }, () => ensureAdmin(t.app, u.email, u.password, 'test')));
      expect(results.filter((r) => 'promoted' in r && r.promoted)).toHaveLength(1);
      expect(results.every((r) => 'userId' in r && r.userId === u.id)).toBe(true);
      expect(await audit(u.id)).toHaveLength(1);
    });

    it('refuses a weak password and creates nothing', async () => {
      const email = uniqueEmail('weak');
      expect(await ensureAdmin(t.app, email, 'password1', 'test')).toEqual({ error: expect.stringMatching(/too common/) });
      expect(await ensureAdmin(t.app, email, 'short', 'test')).toEqual({ error: expect.stringMatching(/at least 8/) });
      expect(await t.sql('SELECT 1 FROM users WHERE email = $1', [email])).toHaveLength(0);
    });

    it('creates one account when several processes start at once', async () => {
      const email = uniqueEmail('boot');
      const results = await Promise.all(Array.from({ length: 4 }, () => ensureAdmin(t.app, email, strongPassword(), 'test')));
      expect(results.filter((r) => 'created' in r && r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => (r as { userId: string }).userId)).size).toBe(1);
      const [{ n }] = await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM audit_log WHERE subject_id = $1`, [
        (results[0] as { userId: string }).userId,
      ]);
      expect(n).toBe(1);
    });
  });

  describe('the create-admin CLI (npm run cli -- create-admin)', () => {
    const cli = (argv: string[], opts: { env?: Record<string, string>; stdin?: string } = {}) => runCliIn(t, argv, opts);

    it('answers usage, bad arguments, a weak password and a bad configuration with an exit code, creating nothing', async () => {
      const email = uniqueEmail('cli-bad');
      expect(await cli([])).toMatchObject({ code: 0, err: expect.stringContaining('create-admin --email') });
      expect(await cli(['drop-everything'])).toMatchObject({ code: 2 });
      expect(await cli(['create-admin', '--email', email, '--force'], { stdin: `${strongPassword()}\n` })).toMatchObject({ code: 2 });
      expect(await cli(['create-admin', '--email', email])).toMatchObject({ code: 2, err: expect.stringContaining('No password given') });
      // A password on the command line is refused by name, and not echoed.
      const secret = strongPassword();
      for (const argv of [
        ['create-admin', '--email', email, '--password', secret],
        ['create-admin', '--email', email, `--password=${secret}`],
      ]) {
        const refused = await cli(argv);
        expect(refused).toMatchObject({ code: 2, err: expect.stringContaining('--password is not accepted'), opened: 0 });
        expect(refused.err).not.toContain(secret);
      }
      // A stray argument (a password typed without a flag) is not echoed back either.
      const stray = await cli(['create-admin', '--email', email, 'Stray-Secret-Value-42']);
      expect(stray).toMatchObject({ code: 2, err: expect.stringContaining('Usage') });
      expect(stray.err).not.toContain('Stray-Secret-Value-42');
      expect(await cli(['create-admin', '--email', email], { stdin: 'password1\n' })).toMatchObject({
        code: 1,
        err: expect.stringMatching(/too common/),
      });
      expect(
        await cli(['create-admin', '--email', email], {
          env: { NODE_ENV: 'production', JWT_SECRET: '', ADMIN_PASSWORD: strongPassword() },
        }),
      ).toMatchObject({
        code: 1,
        err: expect.stringContaining('JWT_SECRET'),
      });
      expect(await t.sql('SELECT 1 FROM users WHERE email = $1', [email])).toHaveLength(0);
      // None of these got as far as starting the application.
      expect((await cli(['create-admin', '--email', email], { stdin: 'short\n' })).opened).toBe(0);
    });

    it('creates an admin in the database (password from ADMIN_PASSWORD), who can sign in to the running server and use admin routes', async () => {
      const email = uniqueEmail('cli');
      const password = strongPassword();
      const res = await cli(['create-admin', '--email', email], { env: { ADMIN_PASSWORD: password } });
      expect(res).toMatchObject({
        code: 0,
        opened: 1,
        out: expect.stringMatching(new RegExp(`Created admin account ${email} \\(id [0-9a-f-]{36}\\)`)),
      });
      expect(res.out).toContain(`Database: external PostgreSQL 127.0.0.1:${new URL(t.db.url).port}/${t.db.name} (DATABASE_URL)`);
      expect(`${res.out}${res.err}`).not.toContain(password);
      const login = await t.http().post('/auth/login').send({ email, password }).expect(200);
      expect(login.body.user.roles).toEqual(['buyer', 'admin']);
      const u = await signUp(t);
      await t
        .http()
        .post(`/admin/users/${u.id}/roles`)
        .set(...bearer(login.body.accessToken))
        .send({ add: ['creator'] })
        .expect(200);
      expect((await audit(login.body.user.id)).map((a) => [a.action, a.reason])).toEqual([['user.role_granted', 'cli create-admin']]);
      expect(await cli(['create-admin', '--email', email.toUpperCase()], { stdin: `${strongPassword()}\n` })).toMatchObject({
        code: 0,
        out: expect.stringContaining(`Already an admin: ${email.toUpperCase()} (id ${login.body.user.id})`),
      });
    });

    it('grants the admin role to an existing account given its own password on stdin, and refuses any other with exit code 1', async () => {
      const u = await signUp(t);
      const wrong = strongPassword();
      const refused = await cli(['create-admin', '--email', u.email], { stdin: `${wrong}\n` });
      expect(refused).toMatchObject({ code: 1, err: expect.stringMatching(/already exists and the password given is not its password/) });
      expect(`${refused.out}${refused.err}`).not.toContain(wrong);
      expect((await t.sql<{ roles: string[] }>('SELECT roles FROM users WHERE id = $1', [u.id]))[0].roles).toEqual(['buyer']);

      expect(await cli(['create-admin', '--email', u.email], { stdin: `${u.password}\r\nignored\n` })).toMatchObject({
        code: 0,
        out: expect.stringContaining(`Granted the admin role to ${u.email} (id ${u.id})`),
      });
      expect((await t.sql<{ roles: string[] }>('SELECT roles FROM users WHERE id = $1', [u.id]))[0].roles).toEqual(['buyer', 'admin']);
    });
  });

  describe('POST /admin/users/:id/roles', () => {
    const changeRoles = (token: string, id: string, body: object) =>
      t
        .http()
        .post(`/admin/users/${id}/roles`)
        .set(...bearer(token))
        .send(body);

    it('adds and removes roles; the change applies to live tokens at once', async () => {
      const u = await signUp(t);
      await t
        .http()
        .post(`/admin/users/${admin.id}/roles`)
        .set(...bearer(u.accessToken))
        .send({ add: ['admin'] })
        .expect(403);
      const res = await changeRoles(admin.accessToken, u.id, { add: ['creator', 'admin'] }).expect(200);
      expect(res.body.roles).toEqual(['buyer', 'creator', 'admin']);
      expect(
        (
          await t
            .http()
            .get('/me')
            .set(...bearer(u.accessToken))
            .expect(200)
        ).body.roles,
      ).toEqual(['buyer', 'creator', 'admin']);
      const removed = await changeRoles(admin.accessToken, u.id, { remove: ['admin'] }).expect(200);
      expect(removed.body.roles).toEqual(['buyer', 'creator']);
      expect((await audit(u.id)).map((a) => [a.action, a.data.role, a.actor_id])).toEqual([
        ['user.role_granted', 'creator', admin.id],
        ['user.role_granted', 'admin', admin.id],
        ['user.role_revoked', 'admin', admin.id],
      ]);
    });

    it('neither grants nor takes back the reseller role (only the reseller flow does), changing nothing', async () => {
      const u = await signUp(t);
      for (const body of [{ add: ['reseller'] }, { add: ['creator', 'reseller'] }, { remove: ['reseller'] }]) {
        const res = await changeRoles(admin.accessToken, u.id, body);
        expect({ body, status: res.status, code: res.body.code }).toEqual({ body, status: 403, code: 'ROLE_NOT_GRANTABLE' });
      }
      const reseller = await signUp(t);
      await grantResellerRole(t, reseller.id);
      expect((await changeRoles(admin.accessToken, reseller.id, { remove: ['reseller'] }).expect(403)).body.code).toBe(
        'ROLE_NOT_GRANTABLE',
      );
      const roles = async (id: string) => (await t.sql<{ roles: string[] }>('SELECT roles FROM users WHERE id = $1', [id]))[0].roles;
      expect(await roles(u.id)).toEqual(['buyer']);
      expect(await roles(reseller.id)).toEqual(['buyer', 'reseller']);
      expect(await audit(u.id)).toEqual([]);
    });

    it('audits granting admin, and the new admin can use admin routes', async () => {
      const u = await signUp(t);
      await changeRoles(u.accessToken, u.id, { add: ['creator'] }).expect(403);
      await changeRoles(admin.accessToken, u.id, { add: ['admin'] }).expect(200);
      const [granted] = await audit(u.id);
      expect(granted).toMatchObject({ action: 'user.role_granted', actor_id: admin.id, data: { role: 'admin' } });
      await changeRoles(u.accessToken, u.id, { add: ['creator'] }).expect(200);
    });

    it('validates the request and changes nothing on bad input', async () => {
      const u = await signUp(t);
      for (const body of [
        {},
        { add: [] },
        { add: ['root'] },
        { add: 'admin' },
        { remove: ['buyer'] },
        { add: ['creator'], remove: ['creator'] },
        { add: ['creator'], x: 1 },
      ]) {
        const res = await changeRoles(admin.accessToken, u.id, body);
        expect({ body, status: res.status, code: res.body.code }).toEqual({ body, status: 400, code: 'VALIDATION_FAILED' });
      }
      await changeRoles(admin.accessToken, '00000000-0000-4000-8000-000000000000', { add: ['creator'] }).expect(404);
      await changeRoles(admin.accessToken, 'nope', { add: ['creator'] }).expect(400);
      expect((await t.sql<{ roles: string[] }>('SELECT roles FROM users WHERE id = $1', [u.id]))[0].roles).toEqual(['buyer']);
    });

    it('never removes the last admin, even when two admins demote each other at once', async () => {
      // Leave exactly two admins.
      await t.sql(`UPDATE users SET roles = '{buyer}' WHERE 'admin' = ANY (roles) AND id <> $1`, [admin.id]);
      const other = await signUp(t);
      await changeRoles(admin.accessToken, other.id, { add: ['admin'] }).expect(200);
      const results = await Promise.all([
        changeRoles(admin.accessToken, other.id, { remove: ['admin'] }),
        changeRoles(other.accessToken, admin.id, { remove: ['admin'] }),
      ]);
      const [{ n }] = await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM users WHERE 'admin' = ANY (roles)`);
      expect(n).toBe(1);
      const statuses = results.map((r) => r.status).sort();
      // Either one demotion wins and the other is refused (409), or the loser's token lost admin first (403).
      expect([
        [200, 403],
        [200, 409],
      ]).toContainEqual(statuses);
    });

    it('the database refuses roles outside the list, duplicates, or a missing buyer role', async () => {
      const u = await signUp(t);
      for (const roles of ['{buyer,root}', '{buyer,buyer}', '{creator}']) {
        await expect(t.sql('UPDATE users SET roles = $2 WHERE id = $1', [u.id, roles])).rejects.toMatchObject({ code: '23514' });
      }
    });
  });
});

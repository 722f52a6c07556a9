import { ensureAdmin } from '../../src/boot';
import { bearer, signUp, strongPassword, uniqueEmail } from '../support/auth';
import { startTestApp, TestApp } from '../support/test-app';

describe('first admin and role management', () => {
  let t: TestApp;
  let admin: { id: string; email: string; password: string; accessToken: string };
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const audit = (subjectId: string) =>
    t.sql<{ action: string; actor_id: string | null; reason: string | null; data: { role: string } }>(
      `SELECT action, actor_id, reason, data FROM audit_log WHERE subject_type = 'user' AND subject_id = $1 ORDER BY id`,
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

      const [row] = await t.sql<{ roles: string[]; email_verified_at: Date | null }>('SELECT roles, email_verified_at FROM users WHERE email = $1', [email]);
      expect(row.roles).toEqual(['buyer', 'admin']);
      expect(row.email_verified_at).not.toBeNull();
      expect(await audit((first as { userId: string }).userId)).toEqual([
        { action: 'user.role_granted', actor_id: null, reason: 'test', data: { role: 'admin' } },
      ]);
      // The first password stands; the second call did not change it.
      const login = await t.http().post('/auth/login').send({ email, password }).expect(200);
      admin = { id: login.body.user.id, email, password, accessToken: login.body.accessToken };
    });

    it('promotes an existing account without touching its password', async () => {
      const u = await signUp(t);
      const result = await ensureAdmin(t.app, u.email, strongPassword(), 'cli create-admin');
      expect(result).toEqual({ userId: u.id, created: false, promoted: true });
      const res = await t.http().post('/auth/login').send({ email: u.email, password: u.password, deviceToken: u.deviceToken }).expect(200);
      expect(res.body.user.roles).toEqual(['buyer', 'admin']);
      expect((await audit(u.id)).map((a) => [a.action, a.data.role, a.reason])).toEqual([['user.role_granted', 'admin', 'cli create-admin']]);
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
      const [{ n }] = await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM audit_log WHERE subject_id = $1`, [(results[0] as { userId: string }).userId]);
      expect(n).toBe(1);
    });
  });

  describe('POST /admin/users/:id/roles', () => {
    const changeRoles = (token: string, id: string, body: object) => t.http().post(`/admin/users/${id}/roles`).set(...bearer(token)).send(body);

    it('adds and removes roles; the change applies to live tokens at once', async () => {
      const u = await signUp(t);
      await t.http().post(`/admin/users/${admin.id}/roles`).set(...bearer(u.accessToken)).send({ add: ['admin'] }).expect(403);
      const res = await changeRoles(admin.accessToken, u.id, { add: ['creator', 'reseller'] }).expect(200);
      expect(res.body.roles).toEqual(['buyer', 'creator', 'reseller']);
      expect((await t.http().get('/me').set(...bearer(u.accessToken)).expect(200)).body.roles).toEqual(['buyer', 'creator', 'reseller']);
      const removed = await changeRoles(admin.accessToken, u.id, { remove: ['reseller'] }).expect(200);
      expect(removed.body.roles).toEqual(['buyer', 'creator']);
      expect((await audit(u.id)).map((a) => [a.action, a.data.role, a.actor_id])).toEqual([
        ['user.role_granted', 'creator', admin.id],
        ['user.role_granted', 'reseller', admin.id],
        ['user.role_revoked', 'reseller', admin.id],
      ]);
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
      for (const body of [{}, { add: [] }, { add: ['root'] }, { add: 'admin' }, { remove: ['buyer'] }, { add: ['creator'], remove: ['creator'] }, { add: ['creator'], x: 1 }]) {
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
      expect([[200, 403], [200, 409]]).toContainEqual(statuses);
    });

    it('the database refuses roles outside the list, duplicates, or a missing buyer role', async () => {
      const u = await signUp(t);
      for (const roles of ['{buyer,root}', '{buyer,buyer}', '{creator}']) {
        await expect(t.sql('UPDATE users SET roles = $2 WHERE id = $1', [u.id, roles])).rejects.toMatchObject({ code: '23514' });
      }
    });
  });
});

import { generate } from 'otplib';
import { bearer, lastMail, strongPassword, uniqueEmail } from '../support/auth';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Every secret a user's journey handles (passwords, email tokens, step-up codes, TOTP secrets and codes,
 * access, refresh and device tokens) with the logs captured at the most verbose level: none may appear in
 * any log line, the request lines of links that carry a token in their query string included.
 */
describe('no token, code or password in the logs', () => {
  let t: TestApp;
  const lines: string[] = [];
  const secrets = new Set<string>();
  const keep = <T extends string | undefined>(value: T): T => {
    if (value) secrets.add(value);
    return value;
  };

  beforeAll(async () => {
    t = await startTestApp(
      { LOG_LEVEL: 'trace', TRUST_PROXY: 'true' },
      { logDestination: { write: (chunk: string) => void lines.push(chunk) } },
    );
  });
  afterAll(() => t?.close());

  const HOME = '198.51.100.7';
  const AWAY = '203.0.113.9';
  const post = (path: string, ip = HOME) => t.http().post(path).set('X-Forwarded-For', ip);
  const nowSeconds = async () => Math.floor(Date.parse((await t.http().get('/dev/clock').expect(200)).body.now) / 1000);

  it('registers, verifies, resets, steps up, enrolls TOTP and signs in without logging a secret', async () => {
    const email = uniqueEmail('logs');
    const password = keep(strongPassword());
    await post('/auth/register').send({ email, password, displayName: 'Logs' }).expect(201);
    const login = await post('/auth/login').send({ email, password }).expect(200);
    keep(login.body.accessToken);
    keep(login.body.refreshToken);
    const deviceToken = keep(login.body.deviceToken as string);
    await post('/auth/login')
      .send({ email, password: keep(strongPassword()) })
      .expect(401);

    // The emailed link opens the dev page with the token in its query string; the page posts it.
    const verification = await lastMail(t, email, 'email_verification');
    const verifyToken = keep(verification!.data.token);
    expect(verification!.text).toContain(`${t.config.webAppUrl}/verify-email?token=${verifyToken}`);
    const page = await t.http().get(`/verify-email?token=${verifyToken}`).expect(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.text).toContain("fetch(path, { method: 'POST'");
    expect(page.text).not.toContain(verifyToken);
    await post('/auth/email/verify').send({ token: verifyToken }).expect(204);
    await post('/auth/email/verify').send({ token: verifyToken }).expect(401);
    await t.http().get(`/no-such-page?token=${verifyToken}&password=${password}`).expect(404);

    const refreshed = await post('/auth/refresh').send({ refreshToken: login.body.refreshToken }).expect(200);
    keep(refreshed.body.accessToken);
    keep(refreshed.body.refreshToken);

    await post('/auth/password/reset-request').send({ email }).expect(202);
    const reset = await lastMail(t, email, 'password_reset');
    const resetToken = keep(reset!.data.token);
    expect(reset!.text).toContain(`${t.config.webAppUrl}/reset-password?token=${resetToken}`);
    expect((await t.http().get(`/reset-password?token=${resetToken}`).expect(200)).text).toContain('/auth/password/reset');
    await post('/auth/password/reset').send({ token: resetToken, newPassword: 'short' }).expect(400);
    const newPassword = keep(strongPassword());
    await post('/auth/password/reset').send({ token: resetToken, newPassword }).expect(204);

    // A new device on a new network: an emailed step-up code.
    const risky = await post('/auth/login', AWAY).send({ email, password: newPassword }).expect(401);
    expect(risky.body.code).toBe('STEP_UP_REQUIRED');
    const stepUpMail = await lastMail(t, email, 'step_up_code');
    const code = keep(stepUpMail!.data.code);
    await post('/auth/step-up', AWAY)
      .send({ challengeId: risky.body.challengeId, code: code === '000000' ? '000001' : '000000' })
      .expect(401);
    const stepped = await post('/auth/step-up', AWAY).send({ challengeId: risky.body.challengeId, code }).expect(200);
    keep(stepped.body.accessToken);
    keep(stepped.body.refreshToken);
    keep(stepped.body.deviceToken);

    const home = await post('/auth/login').send({ email, password: newPassword, deviceToken }).expect(200);
    const token = keep(home.body.accessToken as string);
    keep(home.body.refreshToken);
    const enrolled = await post('/auth/2fa/totp/enroll')
      .set(...bearer(token))
      .expect(200);
    const secret = keep(enrolled.body.secret as string);
    keep(enrolled.body.otpauthUrl);
    const totp = keep(await generate({ secret, epoch: await nowSeconds() }));
    await post('/auth/2fa/totp/confirm')
      .set(...bearer(token))
      .send({ code: totp })
      .expect(204);
    await post('/auth/reauth')
      .set(...bearer(token))
      .send({ password: newPassword })
      .expect(204);
    await t
      .http()
      .get('/me')
      .set(...bearer(token))
      .expect(200);

    // The logs are there (so the check below can fail), at every level, with the pages' request lines.
    const entries = lines.map((l) => JSON.parse(l) as { msg?: string; route?: string | null });
    // Request lines name the route template, never the URL a token could ride in.
    const routes = entries.map((e) => e.route).filter(Boolean);
    expect(routes).toEqual(expect.arrayContaining(['/verify-email', '/reset-password', '/auth/login', '/auth/step-up']));
    expect(routes.some((u) => u!.includes('?'))).toBe(false);

    for (const value of secrets) {
      // Six-digit codes only count as themselves, not as digits inside a timestamp or a hex id.
      const pattern = /^\d{6}$/.test(value) ? new RegExp(`(?<![0-9a-f])${value}(?![0-9a-f])`) : undefined;
      const leaks = lines.filter((line) => (pattern ? pattern.test(line) : line.includes(value)));
      expect({ value, leaks }).toEqual({ value, leaks: [] });
    }
  });
});

import { randomBytes } from 'node:crypto';
import type { TestApp } from './test-app';

export interface SignedUpUser {
  id: string;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
  deviceToken?: string;
}

/** A unique address for one test. */
export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}@example.com`;
}

/** A password that passes the policy (long, random, not on the common list). */
export function strongPassword(): string {
  return `pw-${randomBytes(9).toString('base64url')}`;
}

/** Registers through the API and logs in; answers the tokens. */
export async function signUp(t: TestApp, opts: { email?: string; password?: string; displayName?: string } = {}): Promise<SignedUpUser> {
  const email = opts.email ?? uniqueEmail();
  const password = opts.password ?? strongPassword();
  const reg = await t
    .http()
    .post('/auth/register')
    .send({ email, password, displayName: opts.displayName ?? 'Test User' });
  if (reg.status !== 201) throw new Error(`register failed: ${reg.status} ${JSON.stringify(reg.body)}`);
  const login = await t.http().post('/auth/login').send({ email, password });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}`);
  return {
    id: reg.body.id,
    email,
    password,
    accessToken: login.body.accessToken,
    refreshToken: login.body.refreshToken,
    deviceToken: login.body.deviceToken,
  };
}

export const bearer = (token: string): [string, string] => ['Authorization', `Bearer ${token}`];

/** The newest dev-mailbox message of a kind (`data.kind`) sent to the address. */
export async function lastMail(
  t: TestApp,
  email: string,
  kind: string,
): Promise<{ subject: string; text: string; data: Record<string, string> } | undefined> {
  const res = await t
    .http()
    .get(`/dev/mailbox/${encodeURIComponent(email)}`)
    .expect(200);
  return (res.body.items as { subject: string; text: string; data: Record<string, string> }[]).find((m) => m.data?.kind === kind);
}

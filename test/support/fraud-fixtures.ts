import { randomBytes, randomUUID } from 'node:crypto';
import type { Test } from 'supertest';
import { Clock } from '../../src/common/clock.service';
import { DAY_MS } from '../../src/common/time';
import { FraudService } from '../../src/fraud/fraud.service';
import { FraudEventType } from '../../src/fraud/fraud.types';
import { Review } from '../../src/fraud/reviews.repository';
import { ReviewsService } from '../../src/fraud/reviews.service';
import { Asset, UserAccountName, userAccount } from '../../src/ledger/ledger.service';
import { uniqueEmail } from './auth';
import { Actor, ledger, PASSWORD } from './market-fixtures';
import { TestApp } from './test-app';

/**
 * Fixtures for the suites of the fraud rules' callers. The app must run with TRUST_PROXY=true: every
 * actor then comes from an address of its own (X-Forwarded-For), so the features that compare
 * addresses (`recipient.sharesIp`) see only what a test arranges.
 */

/** A fresh address (10.0.0.0/8), never used before. */
export const uniqueIp = (): string => `10.${[...randomBytes(3)].join('.')}`;

/** POST /auth/register + POST /auth/login, both from `ip`; later requests of the actor come from it too. */
export async function signUpFrom(t: TestApp, label: string, ip: string = uniqueIp()): Promise<Actor & { ip: string }> {
  const email = uniqueEmail(label);
  const reg = await t.http().post('/auth/register').set('X-Forwarded-For', ip).send({ email, password: PASSWORD, displayName: label });
  if (reg.status !== 201) throw new Error(`register ${email}: ${reg.status} ${JSON.stringify(reg.body)}`);
  const login = await t.http().post('/auth/login').set('X-Forwarded-For', ip).send({ email, password: PASSWORD });
  if (login.status !== 200) throw new Error(`login ${email}: ${login.status} ${JSON.stringify(login.body)}`);
  return { id: reg.body.id, email, password: PASSWORD, token: login.body.accessToken, deviceToken: login.body.deviceToken, ip };
}

/** Requests as the actor from `ip` (the actor's own address unless given); writes carry an Idempotency-Key. */
export function from(t: TestApp, a: Actor & { ip: string }, ip: string = a.ip) {
  const auth = (r: Test) => r.set('Authorization', `Bearer ${a.token}`).set('X-Forwarded-For', ip);
  return {
    get: (url: string) => auth(t.http().get(url)),
    post: (url: string, body: object = {}, key: string = randomUUID()) => auth(t.http().post(url)).set('Idempotency-Key', key).send(body),
  };
}

/** Makes the account `days` old on the business clock. */
export async function ageAccount(t: TestApp, userId: string, days: number): Promise<void> {
  const createdAt = new Date(t.app.get(Clock).nowMs() - days * DAY_MS);
  await t.sql(`UPDATE users SET created_at = $2 WHERE id = $1`, [userId, createdAt]);
}

/** An evaluated login of the user from `ip` (and `deviceId`): the history the sharing features read. */
export async function loginHistory(t: TestApp, userId: string, ip: string, deviceId?: string): Promise<void> {
  await t.dataSource.transaction((em) =>
    t.app.get(FraudService).evaluate(em, {
      type: 'login',
      userId,
      subjectId: userId,
      ip,
      login: { deviceIsNew: false, networkIsNew: false, deviceId: deviceId ?? null },
    }),
  );
}

/** The device of the actor's current session (linked by SQL when no login linked it yet). */
export async function sessionDevice(t: TestApp, a: Actor): Promise<string> {
  const sid = (JSON.parse(Buffer.from(a.token.split('.')[1], 'base64url').toString()) as { sid: string }).sid;
  await t.sql(
    `INSERT INTO session_devices (session_id, device_id)
     SELECT $1, d.id FROM devices d WHERE d.user_id = $2 ORDER BY d.created_at LIMIT 1 ON CONFLICT (session_id) DO NOTHING`,
    [sid, a.id],
  );
  const [row] = await t.sql<{ device_id: string }>(`SELECT device_id FROM session_devices WHERE session_id = $1`, [sid]);
  if (!row) throw new Error(`no device for ${a.email}`);
  return row.device_id;
}

/** A live list entry (the admin routes are another package's; the rules read the table). */
export async function listEntry(t: TestApp, type: string, value: string, expiresAt: Date | null = null): Promise<void> {
  await t.sql(`INSERT INTO fraud_list_entries (id, list_type, value, reason, expires_at, created_at) VALUES ($1, $2, $3, 'test', $4, $5)`, [
    randomUUID(),
    type,
    value,
    expiresAt,
    t.app.get(Clock).now(),
  ]);
}

export async function reviewOf(t: TestApp, eventType: FraudEventType, subjectId: string): Promise<Review> {
  const review = await t.app.get(ReviewsService).forSubject(eventType, subjectId);
  if (!review) throw new Error(`no review of ${eventType} ${subjectId}`);
  return review;
}

/** An admin's decision on the review of the event's subject (as the admin route calls it). */
export async function decide(
  t: TestApp,
  admin: Actor,
  eventType: FraudEventType,
  subjectId: string,
  action: 'approve' | 'reject',
): Promise<Review> {
  const review = await reviewOf(t, eventType, subjectId);
  return t.app.get(ReviewsService).decide(review.id, admin.id, action, `${action}d in a test`);
}

/** An account's posted balance and what holds reserve of it. */
export async function funds(
  t: TestApp,
  userId: string,
  asset: Asset = 'CREDIT',
  name: UserAccountName = 'wallet',
): Promise<{ posted: bigint; held: bigint }> {
  const { posted, held } = await ledger(t).balance(userAccount(userId, asset, name));
  return { posted, held };
}

export async function entriesWithReference(t: TestApp, reference: string): Promise<{ kind: string }[]> {
  return t.sql<{ kind: string }>(`SELECT kind FROM ledger_entries WHERE reference = $1`, [reference]);
}

import { randomBytes, randomUUID } from 'node:crypto';
import type { Test } from 'supertest';
import { Clock } from '../../src/common/clock.service';
import { KEY_LOCK_SEED } from '../../src/common/idempotency/idempotency.repository';
import { PasswordHasherService } from '../../src/identity/passwords/password-hasher.service';
import { SessionsService } from '../../src/identity/sessions.service';
import { Asset, LedgerService, systemAccount, UserAccountName, userAccount } from '../../src/ledger/ledger.service';
import { lastMail, signUp as register, uniqueEmail } from './auth';
import { TestApp } from './test-app';

/** Fixtures for the catalog and orders suites: users through the real auth routes, credits through the ledger. */

export interface Actor {
  id: string;
  email: string;
  password: string;
  token: string;
  deviceToken?: string;
}

export const PASSWORD = 'market fixture passphrase 7';

export async function login(t: TestApp, email: string, password = PASSWORD, deviceToken?: string) {
  const res = await t
    .http()
    .post('/auth/login')
    .send({ email, password, ...(deviceToken ? { deviceToken } : {}) });
  if (res.status !== 200) throw new Error(`login ${email}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { accessToken: string; deviceToken?: string; user: { id: string } };
}

/** POST /auth/register + POST /auth/login. */
export async function signUp(t: TestApp, label = 'user'): Promise<Actor> {
  const u = await register(t, { email: uniqueEmail(label), password: PASSWORD, displayName: label });
  return { id: u.id, email: u.email, password: PASSWORD, token: u.accessToken, deviceToken: u.deviceToken };
}

export async function makeAdmin(t: TestApp, a: Actor): Promise<Actor> {
  await t.sql(`UPDATE users SET roles = array_append(roles, 'admin') WHERE id = $1`, [a.id]);
  const session = await login(t, a.email, a.password, a.deviceToken);
  return { ...a, token: session.accessToken };
}

export async function signUpCreator(t: TestApp, label = 'creator'): Promise<Actor> {
  const a = await signUp(t, label);
  await as(t, a).post('/creators/me').expect(201);
  return a;
}

/** Requests carrying the actor's bearer token (and a fresh Idempotency-Key on writes unless one is given). */
export function as(t: TestApp, a: Actor) {
  const auth = (r: Test) => r.set('Authorization', `Bearer ${a.token}`);
  return {
    get: (url: string) => auth(t.http().get(url)),
    post: (url: string, body: object = {}, key: string = randomUUID()) => auth(t.http().post(url)).set('Idempotency-Key', key).send(body),
    patch: (url: string, body: object) => auth(t.http().patch(url)).send(body),
  };
}

/** The default rule reviewing gifts to accounts under a day old that share the sender's device or IP. */
export const GIFT_TO_NEW_LINKED_ACCOUNT_RULE = '00000000-0000-4000-8000-00000000f003';

/**
 * Switches a fraud rule off through the admin route. For suites about something else whose accounts
 * all trip it by construction: every test account is minutes old and calls from 127.0.0.1, which is
 * exactly what the gift-laundering rule looks for (the fraud suites test that rule).
 */
export async function disableFraudRule(t: TestApp, admin: Actor, ruleId: string): Promise<void> {
  await as(t, admin).patch(`/admin/fraud/rules/${ruleId}`, { mode: 'DISABLED' }).expect(200);
}

export function ledger(t: TestApp): LedgerService {
  return t.app.get(LedgerService);
}

/** Puts the user `amount` CREDIT in debt, as a clawback that found nothing to take would (issuance ← debt). */
export async function owe(t: TestApp, userId: string, amount: bigint): Promise<void> {
  await t.dataSource.transaction((em) =>
    ledger(t).post(em, {
      kind: 'test_debt',
      reference: `test_debt:${randomUUID()}`,
      postings: [
        { account: userAccount(userId, 'CREDIT', 'debt'), amount: -amount },
        { account: systemAccount('issuance', 'CREDIT'), amount },
      ],
    }),
  );
}

/** Gives the user `amount` of `asset` in `name` (issuance → account). */
export async function fund(
  t: TestApp,
  userId: string,
  asset: Asset,
  amount: number | bigint,
  name: UserAccountName = 'wallet',
): Promise<void> {
  const n = BigInt(amount);
  await t.dataSource.transaction((em) =>
    ledger(t).post(em, {
      kind: 'test_funding',
      reference: `test_funding:${randomUUID()}`,
      postings: [
        { account: systemAccount('issuance', asset), amount: -n },
        { account: userAccount(userId, asset, name), amount: n },
      ],
    }),
  );
}

export async function balance(t: TestApp, userId: string, asset: Asset, name: UserAccountName = 'wallet'): Promise<bigint> {
  return (await ledger(t).balance(userAccount(userId, asset, name))).posted;
}

export async function systemBalance(t: TestApp, name: 'platform_revenue' | 'burn' | 'issuance', asset: Asset): Promise<bigint> {
  return (await ledger(t).balance(systemAccount(name, asset))).posted;
}

export interface ListingBody {
  title?: string;
  description?: string;
  category?: string;
  profit: number;
  parentListingId?: string;
}

/** A listing taken through draft → submit (fee funded) → admin approval. */
export async function publishListing(t: TestApp, creator: Actor, admin: Actor, body: ListingBody) {
  const created = await as(t, creator)
    .post('/listings', { title: 'Item', description: 'An item', category: 'hats', ...body })
    .expect(201);
  await fund(t, creator.id, 'CREDIT', t.config.economy.submissionFeeCredits);
  await as(t, creator).post(`/listings/${created.body.id}/submit`).expect(200);
  const approved = await as(t, admin).post(`/admin/listings/${created.body.id}/approve`).expect(200);
  return approved.body as { id: string; price: number; profit: number; derivationCost: number; platformFee: number; creatorId: string };
}

export async function verifyLedger(t: TestApp): Promise<{ ok: boolean; problems?: unknown[] }> {
  return ledger(t).verify() as unknown as { ok: boolean; problems?: unknown[] };
}

/**
 * Many buyers at once for the concurrency tests: users inserted directly (argon2 for hundreds of
 * registrations would dominate the suite), each with a real session and access token from SessionsService.
 */
export async function bulkBuyers(t: TestApp, n: number): Promise<Actor[]> {
  const now = t.app.get(Clock).now();
  const hash = await t.app.get(PasswordHasherService).hash(PASSWORD);
  const tag = randomBytes(4).toString('hex');
  const users = await t.sql<{ id: string; email: string }>(
    `INSERT INTO users (email, display_name, password_hash, roles, created_at, password_changed_at, updated_at)
     SELECT 'bulk-' || $1 || '-' || i || '@example.com', 'Buyer ' || i, $2, '{buyer}', $3, $3, $3 FROM generate_series(1, $4) i
     RETURNING id, email::text`,
    [tag, hash, now, n],
  );
  const sessions = t.app.get(SessionsService);
  return t.dataSource.transaction(async (em) => {
    const actors: Actor[] = [];
    for (const u of users) {
      const pair = await sessions.start(em, u.id, { ip: '127.0.0.1' }, now);
      actors.push({ id: u.id, email: u.email, password: PASSWORD, token: pair.accessToken });
    }
    return actors;
  });
}

/** Funds every user with `amount` of `asset` (a few entries: an entry has at most 64 legs). */
export async function fundAll(t: TestApp, userIds: string[], asset: Asset, amount: number): Promise<void> {
  const n = BigInt(amount);
  for (let i = 0; i < userIds.length; i += 60) {
    const ids = userIds.slice(i, i + 60);
    await t.dataSource.transaction((em) =>
      ledger(t).post(em, {
        kind: 'test_funding',
        reference: `test_funding:${randomUUID()}`,
        postings: [
          { account: systemAccount('issuance', asset), amount: -n * BigInt(ids.length) },
          ...ids.map((id) => ({ account: userAccount(id, asset, 'wallet'), amount: n })),
        ],
      }),
    );
  }
}

/** A new access token for the actor (after the business clock moved past the old one's expiry). */
export async function relogin(t: TestApp, a: Actor): Promise<Actor> {
  const session = await login(t, a.email, a.password, a.deviceToken);
  return { ...a, token: session.accessToken };
}

/** Signs the actor in again in place (a clock move expires tokens; roles are read into a token at sign-in) and answers it. */
export async function signInAgain<A extends Actor>(t: TestApp, a: A): Promise<A> {
  a.token = (await login(t, a.email, a.password, a.deviceToken)).accessToken;
  return a;
}

/** Verifies the actor's email through the mailed token (POST /auth/email/verify). */
/**
 * Mail goes out through the outbox, after the sign-up commits: with several server processes, another
 * one's dispatcher may hold the message (claimed, not yet in the mailbox) when this reads it, so it looks again for a while.
 */
export async function verifyEmail(t: TestApp, a: Actor): Promise<void> {
  let mail = await lastMail(t, a.email, 'email_verification');
  for (let waited = 0; !mail && waited < 10_000; waited += 100) {
    await new Promise((r) => setTimeout(r, 100));
    mail = await lastMail(t, a.email, 'email_verification');
  }
  if (!mail) throw new Error(`no verification mail for ${a.email}`);
  await t.http().post('/auth/email/verify').send({ token: mail.data.token }).expect(204);
}

/**
 * Runs `fn` while an open transaction holds the lock of the user's Idempotency-Key, as a transaction
 * deciding a request with that key does.
 */
export async function whileKeyIsDecided(t: TestApp, userId: string, key: string, fn: () => Promise<void>): Promise<void> {
  const runner = t.dataSource.createQueryRunner();
  await runner.startTransaction();
  try {
    await runner.query(`SELECT pg_advisory_xact_lock(hashtextextended($1::uuid::text || '/' || $2, $3))`, [userId, key, KEY_LOCK_SEED]);
    await fn();
  } finally {
    await runner.rollbackTransaction();
    await runner.release();
  }
}

/**
 * Credit transfers over HTTP (POST /credit-transfers, real JWTs), a scenario of `npm run bench:http`:
 * every buyer gifts GIFT credits once to the next buyer (uniform), then once more, all to one recipient
 * (hot). The senders are made eligible the way users become so: email verified, session
 * re-authenticated (the route is sensitive); the seeding funds them with TRANSFER_FUNDING more.
 */
import { Client } from 'pg';

/** What each buyer needs on top of its purchases: two gifts. */
export const TRANSFER_FUNDING = 200n;
const GIFT = 100;

export interface LoadRequest {
  method: string;
  path: string;
  token: string;
  body?: object;
  ip?: string;
}

/** http.bench.ts's load generator (requests kept in flight over keep-alive connections). */
export type Load<R> = (name: string, port: number, n: number, make: (i: number) => LoadRequest) => Promise<R>;

const userOf = (token: string): string => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).sub as string;

export async function creditTransfers<R>(
  load: Load<R>,
  url: string,
  port: number,
  tokens: string[],
  ipOf: (i: number) => string,
): Promise<R[]> {
  const db = new Client({ connectionString: url });
  await db.connect();
  try {
    await db.query(`UPDATE users SET email_verified_at = now() WHERE email LIKE 'buyer-%@bench.local' AND email_verified_at IS NULL`);
    // The re-authentication window (REAUTH_WINDOW_SECONDS, 300 s by default) opens now for every session.
    await db.query('UPDATE sessions SET reauthenticated_at = now()');
  } finally {
    await db.end();
  }
  const users = tokens.map(userOf);
  const n = tokens.length;
  const gift = (name: string, to: (i: number) => number) =>
    load(name, port, n - 1, (i) => ({
      method: 'POST',
      path: '/credit-transfers',
      token: tokens[i + 1],
      ip: ipOf(i + 1),
      body: { toUserId: users[to(i + 1)], amount: GIFT },
    }));
  return [await gift('POST /credit-transfers uniform', (i) => (i + 1) % n), await gift('POST /credit-transfers to one recipient', () => 0)];
}

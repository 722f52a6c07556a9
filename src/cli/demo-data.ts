import { randomBytes, randomUUID } from 'node:crypto';

/**
 * The demo data `seed` creates, through the public HTTP API of an application listening on `base`
 * (the CLI's own instance on the shared database): real registrations, email verification, Stripe
 * sandbox purchases settled by their signed webhooks, listings submitted (fee paid) and approved.
 */

export interface DemoAccount {
  role: 'admin' | 'creator' | 'buyer';
  email: string;
  password: string;
  id: string;
  note: string;
}

export const DEMO_ADMIN_EMAIL = 'admin@demo.bazaar.test';

const CREATORS = [
  {
    name: 'Ada',
    listings: [
      { title: 'Neon sneakers', category: 'shoes', profit: 120 },
      { title: 'Pixel beanie', category: 'hats', profit: 60 },
    ],
  },
  {
    name: 'Grace',
    listings: [
      { title: 'Starlight gown', category: 'dresses', profit: 300 },
      { title: 'Comet earrings', category: 'jewelry', profit: 80 },
    ],
  },
];
const BUYERS = ['Linus', 'Margaret'];

/** A password the policy accepts, shown once by `seed`. */
export const demoPassword = (): string => `demo-${randomBytes(9).toString('base64url')}`;

class Api {
  constructor(private readonly base: string) {}

  async call<T>(method: string, path: string, opts: { token?: string; body?: object; idempotent?: boolean } = {}): Promise<T> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: {
        ...(opts.body ? { 'Content-Type': 'application/json' } : {}),
        ...(opts.token ? { Authorization: `Bearer ${opts.token}` } : {}),
        ...(opts.idempotent ? { 'Idempotency-Key': randomUUID() } : {}),
      },
      body: opts.body ? JSON.stringify(opts.body) : undefined,
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

interface Session {
  id: string;
  email: string;
  password: string;
  token: string;
}

async function signUp(api: Api, label: string, password: string): Promise<Session> {
  const email = `${label.toLowerCase()}@demo.bazaar.test`;
  const user = await api.call<{ id: string }>('POST', '/auth/register', { body: { email, password, displayName: label } });
  const mails = await api.call<{ items: { data?: { kind?: string; token?: string } }[] }>(
    'GET',
    `/dev/mailbox/${encodeURIComponent(email)}`,
  );
  const token = mails.items.find((m) => m.data?.kind === 'email_verification')?.data?.token;
  if (token) await api.call('POST', '/auth/email/verify', { body: { token } });
  return { id: user.id, email, password, token: await logIn(api, email, password) };
}

async function logIn(api: Api, email: string, password: string): Promise<string> {
  return (await api.call<{ accessToken: string }>('POST', '/auth/login', { body: { email, password } })).accessToken;
}

/**
 * Buys a token package in the Stripe sandbox and has the bank approve it; the signed webhook is queued
 * and its job mints the credits (run here at once rather than waiting for the server's worker).
 */
async function buyCredits(api: Api, who: Session, packageId: string): Promise<void> {
  const purchase = await api.call<{ id: string; paymentIntentId: string }>('POST', '/token-purchases', {
    token: who.token,
    body: { packageId },
    idempotent: true,
  });
  await api.call('POST', `/dev/payments/${purchase.paymentIntentId}/succeed`, { body: {} });
  for (let attempt = 0; attempt < 50; attempt++) {
    const { status } = await api.call<{ status: string }>('GET', `/token-purchases/${purchase.id}`, { token: who.token });
    if (status === 'succeeded') return;
    await api.call('POST', '/dev/jobs/run');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`The sandbox purchase ${purchase.id} of ${who.email} did not settle`);
}

/** Creates the demo accounts and listings; `admin` already exists (made with the admin service). */
export async function createDemoData(base: string, admin: { id: string; password: string }): Promise<DemoAccount[]> {
  const api = new Api(base);
  const adminToken = await logIn(api, DEMO_ADMIN_EMAIL, admin.password);
  const packages = await api.call<{ items: { id: string; credits: number }[] }>('GET', '/token-packages');
  if (!packages.items.length) throw new Error('No token package is on sale: nothing to buy credits with');
  const pkg = packages.items.reduce((a, b) => (b.credits > a.credits ? b : a));
  const accounts: DemoAccount[] = [
    { role: 'admin', email: DEMO_ADMIN_EMAIL, password: admin.password, id: admin.id, note: 'admin routes' },
  ];

  for (const c of CREATORS) {
    const creator = await signUp(api, c.name, demoPassword());
    await api.call('POST', '/creators/me', { token: creator.token, idempotent: true });
    await buyCredits(api, creator, pkg.id);
    for (const l of c.listings) {
      const listing = await api.call<{ id: string }>('POST', '/listings', {
        token: creator.token,
        body: { ...l, description: `${l.title}, a demo item by ${c.name}` },
        idempotent: true,
      });
      await api.call('POST', `/listings/${listing.id}/submit`, { token: creator.token, idempotent: true });
      await api.call('POST', `/admin/listings/${listing.id}/approve`, { token: adminToken, body: {}, idempotent: true });
    }
    accounts.push({ ...creator, role: 'creator', note: `${c.listings.length} published listings` });
  }
  for (const name of BUYERS) {
    const buyer = await signUp(api, name, demoPassword());
    await buyCredits(api, buyer, pkg.id);
    accounts.push({ ...buyer, role: 'buyer', note: `${pkg.credits} credits bought in the sandbox` });
  }
  return accounts;
}

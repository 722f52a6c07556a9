import { Pool } from 'pg';
import request from 'supertest';
import { AppConfig } from '../../src/config/app-config';
import { Actor, as, makeAdmin, signInAgain, signUp, verifyEmail } from '../support/market-fixtures';
import { Applicant, apply, approveTwice, enableTotp, inBatches } from '../support/reseller-fixtures';
import type { TestApp } from '../support/test-app';
import { sleep } from './client';
import type { Nodes } from './nodes';
import type { Profile } from './profiles';
import type { StripeSide } from './stripe';

/**
 * What a bank run starts from, made through the real routes of node 0 before anything is killed:
 * the market (`openMarket`: an admin, every fraud rule off, buyers with purchased credits), a second
 * admin, creators with published listings, and one active reseller with wholesale stock and its bond locked.
 */
export interface Listing {
  id: string;
  creatorId: string;
  price: number;
  profit: number;
  platformFee: number;
}

export interface World {
  admin: Actor;
  buyers: Actor[];
  creators: Actor[];
  listings: Listing[];
  reseller: Applicant;
  packageId: string;
  packageCredits: number;
}

const PACKAGE_CREDITS = 20_000;
const WHOLESALE_CREDITS = 2_000_000;

/**
 * The fixtures of test/support reach a node over loopback through this: they use only `http()`
 * (supertest takes a URL), `config` and `sql`, none of the in-process parts of a TestApp.
 */
function remote(url: string, config: AppConfig, db: Pool): TestApp {
  const sql = async (text: string, params?: unknown[]) => (await db.query(text, params)).rows;
  return { http: () => request(url), config, sql } as unknown as TestApp;
}

/**
 * The part of the world every fault test starts from: an admin, every fraud rule off (these tests are
 * about money, not about what the rules decide), the buyers' token package, and `buyerCount` buyers
 * with verified email and one package's credits paid at the fake Stripe.
 */
export interface Market {
  t: TestApp;
  admin: Actor;
  buyers: Actor[];
  packageId: string;
  createPackage(body: object): Promise<string>;
  pay(a: Actor, route: string, packageId: string): Promise<void>;
}

export async function openMarket(nodes: Nodes, stripe: StripeSide, config: AppConfig, db: Pool, buyerCount: number): Promise<Market> {
  const t = remote(nodes.url(0), config, db);
  const admin = await makeAdmin(t, await signUp(t, 'admin'));
  const rules = (await as(t, admin).get('/admin/fraud/rules?limit=200').expect(200)).body.items as { id: string; mode: string }[];
  for (const r of rules.filter((x) => x.mode !== 'DISABLED'))
    await as(t, admin).patch(`/admin/fraud/rules/${r.id}`, { mode: 'DISABLED' }).expect(200);

  const createPackage = async (body: object) =>
    (
      await as(t, admin)
        .post('/admin/token-packages', { currency: 'USD', bonusPromo: 0, ...body })
        .expect(201)
    ).body.id as string;
  const packageId = await createPackage({ name: 'Bank credits', credits: PACKAGE_CREDITS, priceCents: 200 });
  const pay = async (a: Actor, route: string, pkg: string) => {
    const created = await as(t, a).post(route, { packageId: pkg }).expect(201);
    await stripe.pay(created.body.paymentIntentId, `fp_bank_${a.id.slice(0, 8)}`);
  };

  const buyers = await inBatches(Array.from({ length: buyerCount }), 4, async (_, i) => {
    const b = await signUp(t, `buyer-${i}`);
    await verifyEmail(t, b);
    await pay(b, '/token-purchases', packageId);
    return b;
  });
  return { t, admin, buyers, packageId, createPackage, pay };
}

export async function buildWorld(nodes: Nodes, stripe: StripeSide, config: AppConfig, db: Pool, profile: Profile): Promise<World> {
  const { t, admin, buyers, packageId, createPackage, pay } = await openMarket(nodes, stripe, config, db, profile.buyers);
  const vetter = await makeAdmin(t, await signUp(t, 'vetter'));
  const wholesaleId = await createPackage({ name: 'Bank wholesale', credits: WHOLESALE_CREDITS, priceCents: 20_000, audience: 'reseller' });
  const bondId = await createPackage({ name: 'Bank bond', credits: config.resellers.bondCredits, priceCents: 1_000 });

  const creators = await inBatches(Array.from({ length: profile.creators }), 4, async (_, i) => {
    const c = await signUp(t, `creator-${i}`);
    await as(t, c).post('/creators/me').expect(201);
    await pay(c, '/token-purchases', packageId);
    return c;
  });
  await settled(db);
  const listings: Listing[] = [];
  for (const [i, c] of creators.entries()) {
    await signInAgain(t, c); // the creator role is read into the token at sign-in
    for (let j = 0; j < profile.listingsPerCreator; j++) {
      const profit = 100 + 50 * ((i * profile.listingsPerCreator + j) % 7);
      const draft = await as(t, c)
        .post('/listings', { title: `Item ${i}-${j}`, description: 'A bank test item', category: 'hats', profit })
        .expect(201);
      await as(t, c).post(`/listings/${draft.body.id}/submit`).expect(200);
      const l = (await as(t, admin).post(`/admin/listings/${draft.body.id}/approve`).expect(200)).body;
      listings.push({ id: l.id, creatorId: c.id, price: l.price, profit: l.profit, platformFee: l.platformFee });
    }
  }

  const reseller: Applicant = { ...(await signUp(t, 'reseller')), totpSecret: '' };
  await verifyEmail(t, reseller);
  reseller.totpSecret = await enableTotp(t, reseller);
  await approveTwice(t, await apply(t, reseller), admin, vetter);
  await signInAgain(t, reseller);
  await pay(reseller, '/reseller/wholesale-purchases', wholesaleId);
  await pay(reseller, '/token-purchases', bondId);
  await settled(db);
  await as(t, reseller).post('/reseller/bond').expect(200);
  await as(t, reseller).post('/auth/reauth', { password: reseller.password }).expect(204);
  return { admin, buyers, creators, listings, reseller, packageId, packageCredits: PACKAGE_CREDITS };
}

/** Waits until every Stripe event stored so far has been processed by a node; answers how many are still queued after `timeoutMs`. */
export async function settle(db: Pool, timeoutMs: number): Promise<number> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const [row] = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM stripe_events WHERE status = 'queued'`)).rows;
    if (row.n === 0 || Date.now() > until) return row.n;
    await sleep(200);
  }
}

/** As `settle`, for the setup: nothing killed yet, so every event must be processed. */
export async function settled(db: Pool): Promise<void> {
  const left = await settle(db, 120_000);
  if (left > 0) throw new Error(`${left} Stripe events still unprocessed after 120 s`);
}

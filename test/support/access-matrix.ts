import { randomUUID } from 'node:crypto';
import { strongPassword, uniqueEmail } from './auth';
import { Actor, as, fund, login, makeAdmin, publishListing, signInAgain, signUp, signUpCreator } from './market-fixtures';
import { APPLICATION, approveTwice, apply, eligibleApplicant, grantResellerRole, inBatches } from './reseller-fixtures';
import type { TestApp } from './test-app';

/**
 * Who may call what: every route of the booted app and every role, declared once here and checked by
 * real requests in test/e2e/access-matrix.e2e-spec.ts (a route missing from the table fails it). The
 * fuzzer (test/e2e/fuzz.e2e-spec.ts) sends its requests as the same cast.
 *
 * - `allow`: the roles that get past authorization (`'public'`: everyone, signed in or not). Every
 *   other role is denied: anonymous with 401 UNAUTHENTICATED, a signed-in role without the route's
 *   role with 403 FORBIDDEN. Allowed means any answer but 401 and 403.
 * - `foreign`: another user's resource, asked for by someone who is not its owner, and the answer the
 *   contract gives (404 NOT_FOUND: its existence is not disclosed; 403 FORBIDDEN: the other party of a
 *   reseller order, who knows it exists), beside its owner's and an admin's requests where they see it (200).
 * - `request`: what each role sends (path, body); by default the route's path with unknown ids and `{}`.
 *   Bodies are valid where the service decides who may act (ownership); requests whose success would
 *   end the caller's session or change its roles send a body that fails validation, which runs after
 *   authorization.
 */

export type Role = 'anonymous' | 'buyer' | 'creator' | 'reseller' | 'admin';
export const ROLES: readonly Role[] = ['anonymous', 'buyer', 'creator', 'reseller', 'admin'];
export type SignedIn = Exclude<Role, 'anonymous'>;
/** The roles' users, and other users owning nothing of the resources (or the other side of them). */
export type Who = Role | 'otherBuyer' | 'otherCreator' | 'otherReseller';

export interface Cast {
  users: Record<Exclude<Who, 'anonymous'>, Actor>;
  /** A second admin (the four-eyes approvals). */
  admin2: Actor;
  ids: {
    /** The buyer's pending token purchase and its PaymentIntent. */
    purchase: string;
    paymentIntent: string;
    /** The creator's draft and published listings. */
    draft: string;
    published: string;
    /** The reseller's (approved) application. */
    application: string;
    /** An open reseller order of the buyer with the reseller. */
    resellerOrder: string;
    /** One of otherBuyer's sessions. */
    otherSession: string;
    /** A token package. */
    tokenPackage: string;
    /** A user whose account admin routes may act on. */
    target: string;
  };
}

export interface MatrixRequest {
  path?: string;
  body?: unknown;
  /** Instead of the caller's own access token (e.g. a session of its own for POST /auth/logout). */
  token?: string;
}

type Build = (c: Cast, who: Who) => MatrixRequest | Promise<MatrixRequest>;

export interface RouteAccess {
  allow: 'public' | readonly SignedIn[];
  request?: Build;
  foreign?: { who: Who; expect: 200 | 403 | 404; request?: Build }[];
  /** Sent after every other request (it changes the caller's roles). */
  last?: true;
}

const SIGNED_IN: readonly SignedIn[] = ['buyer', 'creator', 'reseller', 'admin'];
const ADMIN: readonly SignedIn[] = ['admin'];
const CREATOR: readonly SignedIn[] = ['creator'];
const RESELLER: readonly SignedIn[] = ['reseller'];
const unknownId = (): string => randomUUID();
const body =
  (b: unknown): Build =>
  () => ({ body: b });
/** A session of the caller's own, so that ending it leaves the cast's sessions alone. */
const ownSession = async (t: TestApp, c: Cast, who: Who): Promise<string | undefined> => {
  if (who === 'anonymous') return undefined;
  const u = c.users[who];
  return (await login(t, u.email, u.password, u.deviceToken)).accessToken;
};

/** The table. `t` is needed by the few requests that first make something of their own. */
export function accessMatrix(t: TestApp): Record<string, RouteAccess> {
  const order = (c: Cast) => `/reseller-orders/${c.ids.resellerOrder}`;
  return {
    // identity
    'POST /auth/register': {
      allow: 'public',
      request: () => ({ body: { email: uniqueEmail('matrix'), password: strongPassword(), displayName: 'M' } }),
    },
    'POST /auth/login': {
      allow: 'public',
      request: (c) => ({
        body: { email: c.users.otherBuyer.email, password: c.users.otherBuyer.password, deviceToken: c.users.otherBuyer.deviceToken },
      }),
    },
    'POST /auth/refresh': {
      allow: 'public',
      request: async (c) => {
        const u = c.users.otherBuyer;
        const res = await t.http().post('/auth/login').send({ email: u.email, password: u.password, deviceToken: u.deviceToken });
        return { body: { refreshToken: res.body.refreshToken } };
      },
    },
    'POST /auth/logout': { allow: SIGNED_IN, request: async (c, who) => ({ token: await ownSession(t, c, who) }) },
    'POST /auth/reauth': {
      allow: SIGNED_IN,
      request: (c, who) => ({ body: { password: who === 'anonymous' ? 'x' : c.users[who].password } }),
    },
    'GET /auth/sessions': { allow: SIGNED_IN },
    'DELETE /auth/sessions/:id': {
      allow: SIGNED_IN,
      request: () => ({ path: `/auth/sessions/${unknownId()}` }),
      foreign: [{ who: 'buyer', expect: 404, request: (c) => ({ path: `/auth/sessions/${c.ids.otherSession}` }) }],
    },
    // A new password that fails the policy: a successful change would end the cast's other sessions.
    'POST /auth/password/change': {
      allow: SIGNED_IN,
      request: (c, who) => ({ body: { currentPassword: c.users[who as SignedIn]?.password ?? 'x', newPassword: 'short' } }),
    },
    'POST /auth/password/reset-request': { allow: 'public', request: body({ email: uniqueEmail('nobody') }) },
    'POST /auth/password/reset': { allow: 'public', request: body({ newPassword: strongPassword() }) },
    'POST /auth/email/verify': { allow: 'public', request: body({}) },
    'POST /auth/step-up': { allow: 'public', request: body({}) },
    'GET /me': { allow: SIGNED_IN },
    'POST /me/email': { allow: SIGNED_IN, request: body({ email: 'not an address' }) },
    'POST /admin/users/:id/roles': {
      allow: ADMIN,
      request: (c) => ({ path: `/admin/users/${c.ids.target}/roles`, body: { add: ['creator'] } }),
    },
    'POST /auth/2fa/totp/enroll': { allow: SIGNED_IN },
    'POST /auth/2fa/totp/confirm': { allow: SIGNED_IN, request: body({ code: '000000' }) },
    'POST /auth/2fa/totp/disable': { allow: SIGNED_IN, request: body({ code: '000000' }) },
    'POST /me/freeze': { allow: SIGNED_IN },
    'POST /me/unfreeze': { allow: SIGNED_IN },
    'GET /me/security-events': { allow: SIGNED_IN },
    // account guard, audit, ledger
    'GET /admin/users': { allow: ADMIN },
    'POST /admin/users/:id/hold': {
      allow: ADMIN,
      request: () => ({ path: `/admin/users/${unknownId()}/hold`, body: { reason: 'matrix' } }),
    },
    'POST /admin/users/:id/release': {
      allow: ADMIN,
      request: () => ({ path: `/admin/users/${unknownId()}/release`, body: { reason: 'matrix' } }),
    },
    'GET /admin/audit-log': { allow: ADMIN },
    'GET /me/balances': { allow: SIGNED_IN },
    'GET /me/ledger': { allow: SIGNED_IN },
    'GET /admin/ledger/verify': { allow: ADMIN },
    'GET /admin/economy/report': { allow: ADMIN },
    'GET /admin/economy/report.csv': { allow: ADMIN },
    // fraud
    'GET /admin/fraud/rules': { allow: ADMIN },
    'GET /admin/fraud/rules/:id': { allow: ADMIN },
    'POST /admin/fraud/rules': { allow: ADMIN },
    'PATCH /admin/fraud/rules/:id': { allow: ADMIN },
    'GET /admin/fraud/lists/:type': { allow: ADMIN },
    'POST /admin/fraud/lists/:type': { allow: ADMIN },
    'DELETE /admin/fraud/lists/:type/:entryId': { allow: ADMIN },
    'GET /admin/fraud/labels': { allow: ADMIN },
    'POST /admin/fraud/labels': { allow: ADMIN },
    'GET /admin/fraud/decisions': { allow: ADMIN },
    'GET /admin/fraud/decisions/:id': { allow: ADMIN },
    'GET /admin/fraud/reviews': { allow: ADMIN },
    'GET /admin/fraud/reviews/:id': { allow: ADMIN },
    'POST /admin/fraud/reviews/:id/approve': { allow: ADMIN },
    'POST /admin/fraud/reviews/:id/reject': { allow: ADMIN },
    'POST /admin/fraud/backtest': { allow: ADMIN },
    // payments
    'GET /token-packages': { allow: 'public' },
    'GET /admin/token-packages': { allow: ADMIN },
    'POST /admin/token-packages': { allow: ADMIN },
    'PATCH /admin/token-packages/:id': { allow: ADMIN },
    'POST /token-purchases': { allow: SIGNED_IN, request: (c) => ({ body: { packageId: c.ids.tokenPackage } }) },
    'GET /token-purchases/:id': {
      allow: SIGNED_IN,
      request: () => ({ path: `/token-purchases/${unknownId()}` }),
      foreign: [
        { who: 'otherBuyer', expect: 404, request: (c) => ({ path: `/token-purchases/${c.ids.purchase}` }) },
        { who: 'creator', expect: 404, request: (c) => ({ path: `/token-purchases/${c.ids.purchase}` }) },
        { who: 'buyer', expect: 200, request: (c) => ({ path: `/token-purchases/${c.ids.purchase}` }) },
        { who: 'admin', expect: 200, request: (c) => ({ path: `/token-purchases/${c.ids.purchase}` }) },
      ],
    },
    'GET /admin/token-purchases': { allow: ADMIN },
    'POST /admin/token-purchases/:id/refund': {
      allow: ADMIN,
      request: () => ({ path: `/admin/token-purchases/${unknownId()}/refund`, body: { reason: 'matrix' } }),
    },
    'POST /webhooks/stripe': { allow: 'public', request: body({ id: 'evt_matrix' }) },
    // catalog
    'POST /creators/me': { allow: SIGNED_IN, last: true },
    'POST /listings': { allow: CREATOR, request: body({ title: 'Matrix hat', description: 'A hat', category: 'hats', profit: 10 }) },
    'PATCH /listings/:id': {
      allow: CREATOR,
      request: (c, who) =>
        who === 'creator'
          ? { path: `/listings/${c.ids.draft}`, body: { profit: 11 } }
          : { path: `/listings/${unknownId()}`, body: { profit: 11 } },
      // 403, not 404: another creator's listing is refused by name (catalog.e2e-spec.ts), unlike a reseller order.
      foreign: [{ who: 'otherCreator', expect: 403, request: (c) => ({ path: `/listings/${c.ids.draft}`, body: { profit: 12 } }) }],
    },
    'POST /listings/:id/submit': {
      allow: CREATOR,
      foreign: [{ who: 'otherCreator', expect: 403, request: (c) => ({ path: `/listings/${c.ids.draft}/submit` }) }],
    },
    'GET /listings': { allow: 'public' },
    'GET /listings/:id': {
      allow: 'public',
      request: (c) => ({ path: `/listings/${c.ids.published}` }),
      foreign: [
        { who: 'anonymous', expect: 404, request: (c) => ({ path: `/listings/${c.ids.draft}` }) },
        { who: 'otherCreator', expect: 404, request: (c) => ({ path: `/listings/${c.ids.draft}` }) },
      ],
    },
    'GET /me/listings': { allow: SIGNED_IN },
    'GET /admin/listings': { allow: ADMIN },
    'POST /admin/listings/:id/approve': { allow: ADMIN },
    'POST /admin/listings/:id/reject': {
      allow: ADMIN,
      request: () => ({ path: `/admin/listings/${unknownId()}/reject`, body: { reason: 'matrix' } }),
    },
    'POST /admin/listings/:id/delist': {
      allow: ADMIN,
      request: () => ({ path: `/admin/listings/${unknownId()}/delist`, body: { reason: 'matrix' } }),
    },
    // orders
    // The creator may not buy its own listing (403 of its own): it asks for one that does not exist.
    'POST /orders': { allow: SIGNED_IN, request: (c, who) => ({ body: { listingId: who === 'creator' ? unknownId() : c.ids.published } }) },
    'GET /me/orders': { allow: SIGNED_IN },
    'GET /me/inventory': { allow: SIGNED_IN },
    'GET /me/sales': { allow: SIGNED_IN },
    'GET /admin/orders': { allow: ADMIN },
    'POST /admin/orders/:id/refund': {
      allow: ADMIN,
      request: () => ({ path: `/admin/orders/${unknownId()}/refund`, body: { reason: 'matrix', chargeCreator: false } }),
    },
    'POST /credit-transfers': { allow: SIGNED_IN, request: (c) => ({ body: { toUserId: c.users.otherBuyer.id, amount: 100 } }) },
    // resellers
    // An application without a business name: the eligibility checks refuse with a 403 of their own (NOT_ELIGIBLE).
    'POST /reseller-applications': { allow: SIGNED_IN, request: body({ ...APPLICATION, businessName: undefined }) },
    'GET /reseller-applications/me': { allow: SIGNED_IN },
    'POST /reseller-applications/:id/withdraw': {
      allow: SIGNED_IN,
      foreign: [{ who: 'buyer', expect: 404, request: (c) => ({ path: `/reseller-applications/${c.ids.application}/withdraw` }) }],
    },
    'GET /admin/reseller-applications': { allow: ADMIN },
    'GET /admin/reseller-applications/:id': { allow: ADMIN },
    'POST /admin/reseller-applications/:id/approve': {
      allow: ADMIN,
      request: () => ({ path: `/admin/reseller-applications/${unknownId()}/approve`, body: { note: 'matrix' } }),
    },
    'POST /admin/reseller-applications/:id/reject': {
      allow: ADMIN,
      request: () => ({ path: `/admin/reseller-applications/${unknownId()}/reject`, body: { note: 'matrix' } }),
    },
    'GET /admin/resellers': { allow: ADMIN },
    'GET /admin/resellers/:id': { allow: ADMIN },
    'POST /admin/resellers/:id/suspend': {
      allow: ADMIN,
      request: () => ({ path: `/admin/resellers/${unknownId()}/suspend`, body: { note: 'matrix' } }),
    },
    'POST /admin/resellers/:id/reinstate': {
      allow: ADMIN,
      request: () => ({ path: `/admin/resellers/${unknownId()}/reinstate`, body: { note: 'matrix' } }),
    },
    'POST /admin/resellers/:id/revoke': {
      allow: ADMIN,
      request: () => ({ path: `/admin/resellers/${unknownId()}/revoke`, body: { note: 'matrix' } }),
    },
    'POST /admin/resellers/:id/renew': {
      allow: ADMIN,
      request: () => ({ path: `/admin/resellers/${unknownId()}/renew`, body: { note: 'matrix' } }),
    },
    'GET /reseller/wholesale-packages': { allow: RESELLER },
    'POST /reseller/wholesale-purchases': { allow: RESELLER, request: (c) => ({ body: { packageId: c.ids.tokenPackage } }) },
    'POST /reseller-orders': { allow: SIGNED_IN, request: (c) => ({ body: { resellerId: c.users.reseller.id, amount: 1000 } }) },
    'GET /reseller-orders': { allow: SIGNED_IN },
    'GET /reseller-orders/:id': {
      allow: SIGNED_IN,
      foreign: [
        { who: 'otherBuyer', expect: 404, request: (c) => ({ path: order(c) }) },
        { who: 'otherReseller', expect: 404, request: (c) => ({ path: order(c) }) },
        { who: 'buyer', expect: 200, request: (c) => ({ path: order(c) }) },
        { who: 'reseller', expect: 200, request: (c) => ({ path: order(c) }) },
        { who: 'admin', expect: 200, request: (c) => ({ path: order(c) }) },
      ],
    },
    'POST /reseller-orders/:id/mark-paid': {
      allow: SIGNED_IN,
      request: body({ paymentReference: 'matrix-ref' }),
      foreign: [
        { who: 'reseller', expect: 403, request: (c) => ({ path: `${order(c)}/mark-paid`, body: { paymentReference: 'matrix-ref' } }) },
        { who: 'otherBuyer', expect: 404, request: (c) => ({ path: `${order(c)}/mark-paid`, body: { paymentReference: 'matrix-ref' } }) },
      ],
    },
    'POST /reseller-orders/:id/confirm': {
      allow: RESELLER,
      foreign: [
        { who: 'otherReseller', expect: 404, request: (c) => ({ path: `${order(c)}/confirm` }) },
        { who: 'buyer', expect: 403, request: (c) => ({ path: `${order(c)}/confirm` }) },
      ],
    },
    'POST /reseller-orders/:id/cancel': {
      allow: SIGNED_IN,
      foreign: [
        { who: 'otherBuyer', expect: 404, request: (c) => ({ path: `${order(c)}/cancel` }) },
        { who: 'otherReseller', expect: 404, request: (c) => ({ path: `${order(c)}/cancel`, body: { reason: 'matrix' } }) },
      ],
    },
    'POST /reseller-orders/:id/dispute': {
      allow: SIGNED_IN,
      request: body({ reason: 'matrix' }),
      foreign: [
        { who: 'reseller', expect: 403, request: (c) => ({ path: `${order(c)}/dispute`, body: { reason: 'matrix' } }) },
        { who: 'otherBuyer', expect: 404, request: (c) => ({ path: `${order(c)}/dispute`, body: { reason: 'matrix' } }) },
      ],
    },
    'GET /admin/reseller-orders': { allow: ADMIN },
    'GET /admin/reseller-orders/:id': { allow: ADMIN },
    'POST /admin/reseller-orders/:id/resolve': {
      allow: ADMIN,
      request: () => ({ path: `/admin/reseller-orders/${unknownId()}/resolve`, body: { outcome: 'buyer', note: 'matrix' } }),
    },
    'GET /admin/resellers/:id/scorecard': { allow: ADMIN },
    'POST /reseller/bond': { allow: RESELLER },
    // @Roles('buyer') so that a reseller whose role was revoked can still take its bond back; a user who
    // never was a reseller is refused by the bond service (403 FORBIDDEN).
    'POST /reseller/bond/release': { allow: RESELLER },
    'GET /reseller/bond': { allow: RESELLER },
    'GET /reseller/scorecard': { allow: RESELLER },
    'GET /resellers': { allow: 'public' },
    // operations
    'GET /health': { allow: 'public' },
    'GET /health/live': { allow: 'public' },
    'GET /health/ready': { allow: 'public' },
    'GET /metrics': { allow: 'public' },
    // development routes (DEV_ROUTES=true): public by design, never mounted in production
    'GET /dev/clock': { allow: 'public' },
    // One second: a real move would expire the cast's access tokens and re-authentications.
    'POST /dev/clock': { allow: 'public', request: body({ advanceSeconds: 1 }) },
    'POST /dev/jobs/run': { allow: 'public' },
    'GET /dev/mailbox/:email': { allow: 'public', request: (c) => ({ path: `/dev/mailbox/${encodeURIComponent(c.users.buyer.email)}` }) },
    'GET /verify-email': { allow: 'public' },
    'GET /reset-password': { allow: 'public' },
    'POST /dev/payments/:paymentIntentId/succeed': {
      allow: 'public',
      request: () => ({ path: '/dev/payments/pi_matrix_unknown/succeed' }),
    },
    'POST /dev/payments/:paymentIntentId/fail': { allow: 'public', request: () => ({ path: '/dev/payments/pi_matrix_unknown/fail' }) },
    'POST /dev/payments/:paymentIntentId/dispute': {
      allow: 'public',
      request: () => ({ path: '/dev/payments/pi_matrix_unknown/dispute' }),
    },
  };
}

/** A route's path with unknown ids (and plausible values) for its parameters. */
export function defaultPath(path: string): string {
  return path
    .replace(':type', 'email')
    .replace(':email', 'nobody%40example.com')
    .replace(':paymentIntentId', 'pi_unknown')
    .replace(/:\w+/g, () => randomUUID());
}

/**
 * The users and resources of the matrix, made through the real routes: an admin pair, a reseller
 * approved by both (the clock moved past the eligibility ages once, before everyone else signs up), its
 * stock and bond, a creator's draft and published listings, a buyer's pending token purchase and an
 * open reseller order of the buyer with the reseller. Every user re-authenticated (sensitive routes).
 */
export async function makeCast(t: TestApp): Promise<Cast> {
  const admin = await makeAdmin(t, await signUp(t, 'm-admin'));
  const admin2 = await makeAdmin(t, await signUp(t, 'm-admin2'));
  const reseller = await eligibleApplicant(t, [admin, admin2]);
  const application = await apply(t, reseller, { ...APPLICATION, businessName: `Matrix ${reseller.id.slice(0, 8)}` });
  await approveTwice(t, application, admin, admin2);
  await signInAgain(t, reseller);
  await fund(t, reseller.id, 'CREDIT', 100_000, 'reseller_stock');
  await fund(t, reseller.id, 'CREDIT', t.config.resellers.bondCredits);
  await as(t, reseller).post('/reseller/bond').expect(200);

  const [buyer, otherBuyer, otherReseller, target] = await inBatches(['m-buyer', 'm-other-buyer', 'm-other-reseller', 'm-target'], 4, (l) =>
    signUp(t, l),
  );
  const [creator, otherCreator] = await inBatches(['m-creator', 'm-other-creator'], 2, (l) => signUpCreator(t, l));
  await grantResellerRole(t, otherReseller.id);
  await signInAgain(t, otherReseller);

  const tokenPackage = (await t.http().get('/token-packages').expect(200)).body.items[0].id as string;
  const purchase = (await as(t, buyer).post('/token-purchases', { packageId: tokenPackage }).expect(201)).body;
  const draft = (
    await as(t, creator).post('/listings', { title: 'Draft', description: 'A draft', category: 'hats', profit: 5 }).expect(201)
  ).body.id as string;
  const published = (await publishListing(t, creator, admin, { profit: 5 })).id;
  const resellerOrder = (await as(t, buyer).post('/reseller-orders', { resellerId: reseller.id, amount: 1000 }).expect(201)).body
    .id as string;
  const sessions = await as(t, otherBuyer).get('/auth/sessions').expect(200);
  const otherSession = (sessions.body.items as { id: string; current: boolean }[]).find((s) => s.current)!.id;

  const users = { admin, buyer, creator, reseller, otherBuyer, otherCreator, otherReseller };
  await inBatches(Object.values(users), 4, (u) =>
    t.http().post('/auth/reauth').set('Authorization', `Bearer ${u.token}`).send({ password: u.password }).expect(204),
  );
  return {
    users,
    admin2,
    ids: {
      purchase: purchase.id,
      paymentIntent: purchase.paymentIntentId,
      draft,
      published,
      application,
      resellerOrder,
      otherSession,
      tokenPackage,
      target: target.id,
    },
  };
}

/** The access token `who` sends (none for anonymous). */
export const tokenOf = (c: Cast, who: Who): string | undefined => (who === 'anonymous' ? undefined : c.users[who].token);

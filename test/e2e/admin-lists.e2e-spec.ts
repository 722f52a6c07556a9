import { Actor, as, fund, makeAdmin, publishListing, signUp, signUpCreator } from '../support/market-fixtures';
import { allPages, Page } from '../support/pages';
import { TestApp, useTestApp } from '../support/test-app';

/**
 * The admins' lists (GET /admin/users, /admin/listings, /admin/orders, /admin/token-purchases): filters,
 * newest-first keyset pages, links to act on each item, admins only; and the public listing reads
 * without the creator's submission fee and moderation note.
 */
describe('admin lists', () => {
  let t: TestApp;
  useTestApp((app) => (t = app));

  let admin: Actor;
  let creator: Actor;
  let other: Actor;
  let buyer: Actor;
  let giftee: Actor;
  let published: { id: string; price: number };
  let pendingId: string;
  let draftId: string;
  /** Business time between the first users and the later ones. */
  let midpoint: string;

  const advance = (seconds: number) => t.http().post('/dev/clock').send({ advanceSeconds: seconds }).expect(200);
  const list = async <T>(a: Actor, url: string): Promise<Page<T>> => (await as(t, a).get(url).expect(200)).body as Page<T>;
  /** Every item of a list, following nextCursor with pages of `limit`; also returns the number of pages. */
  async function all(a: Actor, url: string, limit: number): Promise<{ ids: string[]; pages: number }> {
    const pages = await allPages<{ id: string }>((u) => as(t, a).get(u), url, limit);
    return { ids: pages.flat().map((i) => i.id), pages: pages.length };
  }

  beforeAll(async () => {
    admin = await makeAdmin(t, await signUp(t, 'lists-admin'));
    creator = await signUpCreator(t, 'lists-creator');
    other = await signUpCreator(t, 'lists-other');
    midpoint = (await advance(1)).body.now;
    await advance(1);
    buyer = await signUp(t, 'lists-buyer');
    giftee = await signUp(t, 'lists-giftee');

    published = await publishListing(t, creator, admin, { title: 'Hat', profit: 1000 });
    const pending = await as(t, creator)
      .post('/listings', { title: 'Scarf', description: 'Wool', category: 'scarves', profit: 500 })
      .expect(201);
    await fund(t, creator.id, 'CREDIT', t.config.economy.submissionFeeCredits);
    await as(t, creator).post(`/listings/${pending.body.id}/submit`).expect(200);
    pendingId = pending.body.id;
    draftId = (await as(t, other).post('/listings', { title: 'Boot', description: 'Left', category: 'shoes', profit: 10 }).expect(201)).body
      .id;
  });

  describe('GET /admin/users', () => {
    it('filters by email prefix (any case), role, hold and created range, newest first', async () => {
      const byPrefix = await list<{ id: string; email: string }>(
        admin,
        `/admin/users?email=${encodeURIComponent(creator.email.slice(0, 20).toUpperCase())}`,
      );
      expect(byPrefix.items.map((u) => u.id)).toEqual([creator.id]);
      expect((await list(admin, '/admin/users?email=lists-%25')).items).toEqual([]); // % is literal, not a wildcard

      const creators = await list<{ id: string; roles: string[] }>(admin, '/admin/users?role=creator');
      expect(creators.items.map((u) => u.id)).toEqual([other.id, creator.id]);

      await as(t, admin).post(`/admin/users/${giftee.id}/hold`, { reason: 'chargeback review' }).expect(200);
      const held = await list<{ id: string; onHold: boolean }>(admin, '/admin/users?hold=true');
      expect(held.items.map((u) => [u.id, u.onHold])).toEqual([[giftee.id, true]]);
      const notHeld = await list<{ id: string }>(admin, '/admin/users?hold=false');
      expect(notHeld.items.map((u) => u.id)).not.toContain(giftee.id);
      expect(notHeld.items).toHaveLength(4);

      const later = await list<{ id: string }>(admin, `/admin/users?from=${encodeURIComponent(midpoint)}`);
      expect(later.items.map((u) => u.id)).toEqual([giftee.id, buyer.id]);
      const earlier = await list<{ id: string }>(admin, `/admin/users?to=${encodeURIComponent(midpoint)}`);
      expect(earlier.items.map((u) => u.id)).toEqual([other.id, creator.id, admin.id]);
    });

    it('pages with limit and cursor without gaps or repeats, and links each user to its routes', async () => {
      const everyone = await list<{ id: string }>(admin, '/admin/users');
      expect(everyone.items).toHaveLength(5);
      expect(everyone.nextCursor).toBeNull();
      const paged = await all(admin, '/admin/users', 2);
      expect(paged).toEqual({ ids: everyone.items.map((u) => u.id), pages: 3 });

      const [first] = (
        await list<{ id: string; links: Record<string, string> }>(admin, `/admin/users?email=${encodeURIComponent(buyer.email)}`)
      ).items;
      expect(first.links).toEqual({
        hold: `/admin/users/${buyer.id}/hold`,
        release: `/admin/users/${buyer.id}/release`,
        roles: `/admin/users/${buyer.id}/roles`,
        orders: `/admin/orders?userId=${buyer.id}`,
        tokenPurchases: `/admin/token-purchases?userId=${buyer.id}`,
        fraudDecisions: `/admin/fraud/decisions?userId=${buyer.id}`,
        auditLog: `/admin/audit-log?subjectId=${buyer.id}`,
      });
      await as(t, admin).get(first.links.orders).expect(200);
      await as(t, admin).get(first.links.tokenPurchases).expect(200);
    });
  });

  describe('GET /admin/listings', () => {
    it('lists every state, filtered by status (the moderation queue) and creator, with the fee and note', async () => {
      const queue = await list<{ id: string; status: string; submissionFee: unknown; links: Record<string, string | null> }>(
        admin,
        '/admin/listings?status=pending_review',
      );
      expect(queue.items.map((l) => l.id)).toEqual([pendingId]);
      expect(queue.items[0].submissionFee).toEqual({ asset: 'CREDIT', amount: t.config.economy.submissionFeeCredits });
      expect(queue.items[0].links).toEqual({
        listing: null,
        approve: `/admin/listings/${pendingId}/approve`,
        reject: `/admin/listings/${pendingId}/reject`,
        delist: `/admin/listings/${pendingId}/delist`,
        auditLog: `/admin/audit-log?subjectId=${pendingId}`,
      });

      const mine = await list<{ id: string }>(admin, `/admin/listings?creatorId=${creator.id}`);
      expect(mine.items.map((l) => l.id)).toEqual([pendingId, published.id]);
      const drafts = await list<{ id: string }>(admin, `/admin/listings?status=draft&creatorId=${other.id}`);
      expect(drafts.items.map((l) => l.id)).toEqual([draftId]);
      const paged = await all(admin, '/admin/listings', 1);
      expect(paged).toEqual({ ids: [draftId, pendingId, published.id], pages: 3 });

      const [pub] = (await list<{ links: { listing: string } }>(admin, '/admin/listings?status=published')).items;
      expect(pub.links.listing).toBe(`/listings/${published.id}`);
      await t.http().get(pub.links.listing).expect(200);
    });
  });

  describe('public listing reads', () => {
    beforeAll(async () => {
      await as(t, admin).post(`/admin/listings/${pendingId}/reject`, { reason: 'not a scarf' }).expect(200);
    });

    it('GET /listings and GET /listings/:id show neither the submission fee nor the moderation note', async () => {
      const page = await t.http().get('/listings').expect(200);
      expect(page.body.items.map((l: { id: string }) => l.id)).toEqual([published.id]);
      for (const l of page.body.items) {
        expect(l).not.toHaveProperty('submissionFee');
        expect(l).not.toHaveProperty('moderationNote');
      }
      const detail = await t.http().get(`/listings/${published.id}`).expect(200);
      expect(detail.body).not.toHaveProperty('submissionFee');
      expect(detail.body).not.toHaveProperty('moderationNote');
      expect(detail.body.breakdown.price).toBe(published.price);
    });

    it('the creator (GET /me/listings) and admins (GET /admin/listings) see them', async () => {
      const mine = (await as(t, creator).get('/me/listings').expect(200)).body.items as { id: string; moderationNote: string | null }[];
      expect(mine.find((l) => l.id === pendingId)).toEqual(expect.objectContaining({ moderationNote: 'not a scarf' }));
      const rejected = await list<{ id: string; moderationNote: string }>(admin, '/admin/listings?status=rejected');
      expect(rejected.items.map((l) => [l.id, l.moderationNote])).toEqual([[pendingId, 'not a scarf']]);
    });

    it('GET /listings?status=pending_review is refused: the queue is GET /admin/listings', async () => {
      const res = await as(t, admin).get('/listings?status=pending_review').expect(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
    });
  });

  describe('GET /admin/orders', () => {
    let orderIds: string[];

    beforeAll(async () => {
      await fund(t, buyer.id, 'CREDIT', published.price * 2);
      const own = await as(t, buyer).post('/orders', { listingId: published.id }).expect(201);
      await advance(60);
      const gift = await as(t, buyer).post('/orders', { listingId: published.id, giftToUserId: other.id });
      expect(gift.status).toBe(201);
      orderIds = [gift.body.id, own.body.id];
      await as(t, admin).post(`/admin/orders/${own.body.id}/refund`, { reason: 'test', chargeCreator: false }).expect(200);
    });

    it('filters by buyer, status and created range, pages, and links each order', async () => {
      const byBuyer = await list<{ id: string; buyerId: string }>(admin, `/admin/orders?userId=${buyer.id}`);
      expect(byBuyer.items.map((o) => o.id)).toEqual(orderIds);
      expect((await list(admin, `/admin/orders?userId=${creator.id}`)).items).toEqual([]);

      const refunded = await list<{ id: string; status: string; links: Record<string, string> }>(admin, '/admin/orders?status=refunded');
      expect(refunded.items.map((o) => [o.id, o.status])).toEqual([[orderIds[1], 'refunded']]);
      expect(refunded.items[0].links).toEqual({
        refund: `/admin/orders/${orderIds[1]}/refund`,
        listing: `/listings/${published.id}`,
        auditLog: `/admin/audit-log?subjectId=${orderIds[1]}`,
      });
      const audit = await as(t, admin).get(refunded.items[0].links.auditLog).expect(200);
      expect(audit.body.items.map((e: { action: string }) => e.action)).toContain('order.refund');

      const second = (await as(t, buyer).get('/me/orders').expect(200)).body.items[0].createdAt as string;
      const since = await list<{ id: string }>(admin, `/admin/orders?from=${encodeURIComponent(second)}`);
      expect(since.items.map((o) => o.id)).toEqual([orderIds[0]]);
      const before = await list<{ id: string }>(admin, `/admin/orders?to=${encodeURIComponent(second)}`);
      expect(before.items.map((o) => o.id)).toEqual([orderIds[1]]);
      expect(await all(admin, '/admin/orders', 1)).toEqual({ ids: orderIds, pages: 2 });
    });
  });

  describe('GET /admin/token-purchases', () => {
    let pendingPurchase: string;
    let paidPurchase: string;

    beforeAll(async () => {
      const packages = (await t.http().get('/token-packages').expect(200)).body.items as { id: string }[];
      const first = await as(t, buyer).post('/token-purchases', { packageId: packages[0].id }).expect(201);
      await as(t, giftee).post(`/admin/users/${giftee.id}/release`, {}).expect(403);
      await as(t, admin).post(`/admin/users/${giftee.id}/release`, { reason: 'cleared' }).expect(200);
      const second = await as(t, giftee).post('/token-purchases', { packageId: packages[0].id }).expect(201);
      await t.http().post(`/dev/payments/${second.body.paymentIntentId}/succeed`).send({}).expect(200);
      await t.http().post('/dev/jobs/run').expect(200);
      pendingPurchase = first.body.id;
      paidPurchase = second.body.id;
    });

    it('filters by user and status, pages, and links each purchase with its payment facts', async () => {
      const byUser = await list<{ id: string; userId: string }>(admin, `/admin/token-purchases?userId=${buyer.id}`);
      expect(byUser.items.map((p) => p.id)).toEqual([pendingPurchase]);
      const paid = await list<{ id: string; status: string; riskScore: unknown; links: Record<string, string> }>(
        admin,
        '/admin/token-purchases?status=succeeded',
      );
      expect(paid.items.map((p) => [p.id, p.status])).toEqual([[paidPurchase, 'succeeded']]);
      expect(paid.items[0]).toHaveProperty('riskScore');
      expect(paid.items[0].links).toEqual({
        purchase: `/token-purchases/${paidPurchase}`,
        refund: `/admin/token-purchases/${paidPurchase}/refund`,
        auditLog: `/admin/audit-log?subjectId=${paidPurchase}`,
      });
      await as(t, admin).get(paid.items[0].links.purchase).expect(200);
      expect(await all(admin, '/admin/token-purchases', 1)).toEqual({ ids: [paidPurchase, pendingPurchase], pages: 2 });
      expect((await list(admin, `/admin/token-purchases?to=${encodeURIComponent(midpoint)}`)).items).toEqual([]);
    });
  });

  describe('every list', () => {
    const lists = ['/admin/users', '/admin/listings', '/admin/orders', '/admin/token-purchases'];

    it('is for admins only', async () => {
      for (const url of lists) {
        await t.http().get(url).expect(401);
        const res = await as(t, creator).get(url).expect(403);
        expect(res.body.code).toBe('FORBIDDEN');
      }
    });

    it('refuses a limit over 200, a forged cursor, an unknown filter value and an unknown parameter', async () => {
      const forged = Buffer.from(JSON.stringify(['not a time', 'not a uuid'])).toString('base64url');
      for (const url of lists) {
        for (const query of ['limit=201', `cursor=${forged}`, 'cursor=%%%', 'from=yesterday', 'status=bogus', 'page=2']) {
          const res = await as(t, admin).get(`${url}?${query}`);
          expect({ url, query, status: res.status, code: res.body.code }).toEqual({ url, query, status: 400, code: 'VALIDATION_FAILED' });
        }
      }
      await as(t, admin).get('/admin/users?role=bogus').expect(400);
      await as(t, admin).get('/admin/users?hold=maybe').expect(400);
    });
  });
});

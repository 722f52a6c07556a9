import { randomUUID } from 'node:crypto';
import { LISTING_STATES, listingMachine } from '../../src/catalog/listing-state';
import {
  Actor,
  as,
  balance,
  fund,
  makeAdmin,
  publishListing,
  signUp,
  signUpCreator,
  systemBalance,
  whileKeyIsDecided,
} from '../support/market-fixtures';
import { startTestApp, TestApp } from '../support/test-app';

describe('catalog: creators, listings, derivation, moderation, search', () => {
  let t: TestApp;
  let admin: Actor;
  let creator: Actor;

  beforeAll(async () => {
    // Tiny search thresholds so that a handful of listings takes every path of the full-text search.
    t = await startTestApp({ MAX_DERIVATION_DEPTH: '2', SEARCH_EXACT_MATCHES: '2', SEARCH_WINDOW: '3' });
    admin = await makeAdmin(t, await signUp(t, 'admin'));
    creator = await signUpCreator(t);
  });
  afterAll(() => t.close());

  const draft = (a: Actor, body: object = {}) =>
    as(t, a).post('/listings', { title: 'Red hat', description: 'A red hat', category: 'hats', profit: 1000, ...body });

  describe('becoming a creator', () => {
    it('needs the creator role to list, which POST /creators/me grants (idempotently)', async () => {
      const buyer = await signUp(t, 'buyer');
      expect((await draft(buyer).expect(403)).body.code).toBe('FORBIDDEN');
      const first = await as(t, buyer).post('/creators/me').expect(201);
      expect(first.body.roles).toEqual(expect.arrayContaining(['buyer', 'creator']));
      const again = await as(t, buyer).post('/creators/me').expect(201);
      expect(again.body.creatorSince).toBe(first.body.creatorSince);
      await draft(buyer).expect(201);
    });
  });

  describe('drafts', () => {
    it('creates a draft priced by the formula: profit + 10% markup rounded up', async () => {
      const res = await draft(creator, { profit: 1001 }).expect(201);
      expect(res.body).toMatchObject({
        status: 'draft',
        profit: 1001,
        derivationCost: 0,
        platformFee: 101,
        price: 1102,
        creatorId: creator.id,
      });
    });

    it('re-prices a draft when its profit is edited, and only its creator may edit it', async () => {
      const { body } = await draft(creator).expect(201);
      const edited = await as(t, creator).patch(`/listings/${body.id}`, { profit: 2000, title: 'Blue hat' }).expect(200);
      expect(edited.body).toMatchObject({ title: 'Blue hat', profit: 2000, platformFee: 200, price: 2200 });
      const other = await signUpCreator(t);
      expect((await as(t, other).patch(`/listings/${body.id}`, { profit: 1 }).expect(403)).body.code).toBe('FORBIDDEN');
    });

    it('rejects invalid input and unknown fields without creating anything', async () => {
      const before = await t.sql(`SELECT count(*)::int AS n FROM listings`);
      for (const bad of [
        { profit: -1 },
        { profit: 1.5 },
        { category: 'Not Valid!' },
        { title: '' },
        { price: 5 },
        { parentListingId: 'nope' },
      ]) {
        expect((await draft(creator, bad).expect(400)).body.code).toBe('VALIDATION_FAILED');
      }
      expect(await t.sql(`SELECT count(*)::int AS n FROM listings`)).toEqual(before);
    });

    it('refuses null for an edited field (400), the draft unchanged', async () => {
      const { body } = await draft(creator).expect(201);
      for (const field of ['profit', 'title', 'description', 'category']) {
        const res = await as(t, creator).patch(`/listings/${body.id}`, { [field]: null });
        expect({ status: res.status, code: res.body.code, fields: res.body.errors?.map((e: { field: string }) => e.field) }).toMatchObject({
          status: 400,
          code: 'VALIDATION_FAILED',
          fields: expect.arrayContaining([field]),
        });
      }
      expect((await as(t, creator).patch(`/listings/${body.id}`, {}).expect(200)).body).toMatchObject({ title: 'Red hat', profit: 1000 });
    });
  });

  describe('submission', () => {
    it('burns the credit fee on submit and moves the draft to pending_review', async () => {
      const { body } = await draft(creator).expect(201);
      const fee = BigInt(t.config.economy.submissionFeeCredits);
      await fund(t, creator.id, 'CREDIT', fee + 7n);
      const burnBefore = await systemBalance(t, 'burn', 'CREDIT');
      const walletBefore = await balance(t, creator.id, 'CREDIT');
      const res = await as(t, creator).post(`/listings/${body.id}/submit`).expect(200);
      expect(res.body).toMatchObject({ status: 'pending_review', submissionFee: { asset: 'CREDIT', amount: Number(fee) } });
      expect(await balance(t, creator.id, 'CREDIT')).toBe(walletBefore - fee);
      expect(await systemBalance(t, 'burn', 'CREDIT')).toBe(burnBefore + fee);
    });

    it('can pay the fee in DEV_TOKENs instead', async () => {
      const { body } = await draft(creator).expect(201);
      const fee = BigInt(t.config.economy.submissionFeeDevTokens);
      await fund(t, creator.id, 'DEV_TOKEN', fee);
      await as(t, creator).post(`/listings/${body.id}/submit`, { payWith: 'DEV_TOKEN' }).expect(200);
      expect(await balance(t, creator.id, 'DEV_TOKEN')).toBe(0n);
    });

    it('refuses a submission it cannot pay for and leaves the draft as it was', async () => {
      const poor = await signUpCreator(t, 'poor');
      const { body } = await draft(poor).expect(201);
      const res = await as(t, poor).post(`/listings/${body.id}/submit`).expect(409);
      expect(res.body.code).toBe('INSUFFICIENT_FUNDS');
      const [row] = await t.sql<{ status: string }>(`SELECT status FROM listings WHERE id = $1`, [body.id]);
      expect(row.status).toBe('draft');
    });

    it('replays a repeated submit and refuses a second one (INVALID_STATE), and edits after submission', async () => {
      const { body } = await draft(creator).expect(201);
      await fund(t, creator.id, 'CREDIT', t.config.economy.submissionFeeCredits);
      const key = randomUUID();
      const first = await as(t, creator).post(`/listings/${body.id}/submit`, {}, key).expect(200);
      const replay = await as(t, creator).post(`/listings/${body.id}/submit`, {}, key).expect(200);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.body).toEqual(first.body);
      expect((await as(t, creator).post(`/listings/${body.id}/submit`).expect(409)).body.code).toBe('INVALID_STATE');
      expect((await as(t, creator).patch(`/listings/${body.id}`, { profit: 1 }).expect(409)).body.code).toBe('INVALID_STATE');
    });
    it('charges the fee once for a key: same key and body replayed, another body 422, a key being decided 409', async () => {
      const { body } = await draft(creator).expect(201);
      const fee = BigInt(t.config.economy.submissionFeeCredits);
      await fund(t, creator.id, 'CREDIT', fee);
      const walletBefore = await balance(t, creator.id, 'CREDIT');
      const key = randomUUID();
      await whileKeyIsDecided(t, creator.id, key, async () => {
        expect((await as(t, creator).post(`/listings/${body.id}/submit`, {}, key).expect(409)).body.code).toBe('IDEMPOTENCY_IN_PROGRESS');
      });
      const first = await as(t, creator).post(`/listings/${body.id}/submit`, {}, key).expect(200);
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      const replay = await as(t, creator).post(`/listings/${body.id}/submit`, {}, key).expect(200);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.body).toEqual(first.body);
      const reused = await as(t, creator).post(`/listings/${body.id}/submit`, { payWith: 'DEV_TOKEN' }, key).expect(422);
      expect(reused.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
      expect(await balance(t, creator.id, 'CREDIT')).toBe(walletBefore - fee);
      const fees = await t.sql<{ reference: string }>(
        `SELECT reference FROM ledger_entries WHERE kind = 'fee' AND metadata->>'listingId' = $1`,
        [body.id],
      );
      expect(fees).toEqual([{ reference: `listing_submission:${body.id}` }]);
    });
  });

  describe('moderation', () => {
    it('approves, rejects and delists along the state machine, recording the reasons in the audit log', async () => {
      const a = await publishListing(t, creator, admin, { profit: 100 });
      expect((await as(t, admin).post(`/admin/listings/${a.id}/approve`).expect(409)).body.code).toBe('INVALID_STATE');
      await as(t, admin).post(`/admin/listings/${a.id}/delist`, { reason: 'copyright claim' }).expect(200);
      expect((await as(t, admin).post(`/admin/listings/${a.id}/delist`, { reason: 'again' }).expect(409)).body.code).toBe('INVALID_STATE');

      const { body: b } = await draft(creator).expect(201);
      expect((await as(t, admin).post(`/admin/listings/${b.id}/approve`).expect(409)).body.code).toBe('INVALID_STATE');
      await fund(t, creator.id, 'CREDIT', t.config.economy.submissionFeeCredits);
      await as(t, creator).post(`/listings/${b.id}/submit`).expect(200);
      expect((await as(t, admin).post(`/admin/listings/${b.id}/reject`, {}).expect(400)).body.code).toBe('VALIDATION_FAILED');
      const rejected = await as(t, admin).post(`/admin/listings/${b.id}/reject`, { reason: 'low quality' }).expect(200);
      expect(rejected.body).toMatchObject({ status: 'rejected', moderationNote: 'low quality' });

      const log = await as(t, admin).get(`/admin/audit-log?subjectId=${b.id}`).expect(200);
      expect(log.body.items).toEqual([expect.objectContaining({ action: 'listing.reject', reason: 'low quality', actorId: admin.id })]);
      const delist = await as(t, admin).get(`/admin/audit-log?subjectId=${a.id}&action=listing.delist`).expect(200);
      expect(delist.body.items[0].reason).toBe('copyright claim');
    });

    it('is for admins only', async () => {
      const { body } = await draft(creator).expect(201);
      expect((await as(t, creator).post(`/admin/listings/${body.id}/approve`).expect(403)).body.code).toBe('FORBIDDEN');
    });

    it('has the same transitions in the database guard as in the state machine', async () => {
      const allowed = new Set(listingMachine.pairs().map(([f, to]) => `${f}>${to}`));
      const samples: Record<string, string> = {};
      for (const s of LISTING_STATES) samples[s] = (await draft(creator).expect(201)).body.id;
      await fund(t, creator.id, 'CREDIT', 4 * t.config.economy.submissionFeeCredits);
      for (const s of ['pending_review', 'published', 'delisted', 'rejected'])
        await as(t, creator).post(`/listings/${samples[s]}/submit`).expect(200);
      for (const s of ['published', 'delisted']) await as(t, admin).post(`/admin/listings/${samples[s]}/approve`).expect(200);
      await as(t, admin).post(`/admin/listings/${samples.delisted}/delist`, { reason: 'r' }).expect(200);
      await as(t, admin).post(`/admin/listings/${samples.rejected}/reject`, { reason: 'r' }).expect(200);
      for (const from of LISTING_STATES) {
        for (const to of LISTING_STATES.filter((s) => s !== from)) {
          const outcome = await t.dataSource
            .transaction(async (em) => {
              await em.query(
                `UPDATE listings SET status = $2,
                   submitted_at = coalesce(submitted_at, now()), submission_fee_asset = coalesce(submission_fee_asset, 'CREDIT'),
                   submission_fee = coalesce(submission_fee, 0),
                   published_at = CASE WHEN $2 IN ('published', 'delisted') THEN coalesce(published_at, now()) END
                 WHERE id = $1`,
                [samples[from], to],
              );
              throw new Error('rollback');
            })
            .catch((err: Error) => err.message);
          if (allowed.has(`${from}>${to}`)) expect(`${from}>${to}: ${outcome}`).toBe(`${from}>${to}: rollback`);
          else expect(outcome).toMatch(/listing status cannot go from/);
        }
      }
    });
  });

  describe('derivation', () => {
    it('prices a derived item with its ancestors profits and shows the capped royalty split', async () => {
      const root = await publishListing(t, creator, admin, { profit: 10_000 });
      const deriver = await signUpCreator(t, 'deriver');
      const child = await publishListing(t, deriver, admin, { profit: 100, parentListingId: root.id });
      // derivationCost 10000, base 10100, fee 1010, price 11110; royalty cap 20% = 2222
      expect(child).toMatchObject({ derivationCost: 10_000, profit: 100, platformFee: 1010, price: 11_110 });
      const detail = await t.http().get(`/listings/${child.id}`).expect(200);
      expect(detail.body.ancestorIds).toEqual([root.id]);
      expect(detail.body.ancestors).toEqual([
        expect.objectContaining({ id: root.id, creatorId: creator.id, profit: 10_000, royalty: 2222 }),
      ]);
      expect(detail.body.breakdown).toEqual({
        derivationCost: 10_000,
        profit: 100,
        platformFee: 1010,
        price: 11_110,
        royalties: 2222,
        sellerShare: 7878,
      });

      const grandchild = await as(t, creator)
        .post('/listings', { title: 'g', description: '', category: 'hats', profit: 5, parentListingId: child.id })
        .expect(201);
      expect(grandchild.body).toMatchObject({ derivationCost: 10_100, ancestorIds: [root.id, child.id] });
    });

    it('derives only from published listings and up to the configured depth', async () => {
      const { body: unpublished } = await draft(creator).expect(201);
      expect((await draft(creator, { parentListingId: unpublished.id }).expect(409)).body.code).toBe('INVALID_STATE');
      expect((await draft(creator, { parentListingId: randomUUID() }).expect(404)).body.code).toBe('NOT_FOUND');
      const a = await publishListing(t, creator, admin, { profit: 1 });
      const b = await publishListing(t, creator, admin, { profit: 1, parentListingId: a.id });
      const c = await publishListing(t, creator, admin, { profit: 1, parentListingId: b.id });
      const tooDeep = await draft(creator, { parentListingId: c.id }).expect(400);
      expect(tooDeep.body.errors[0].field).toBe('parentListingId');
    });
  });

  describe('browse and search', () => {
    let seller: Actor;
    const ids: string[] = [];
    beforeAll(async () => {
      seller = await signUpCreator(t, 'searchable');
      const items = [
        { title: 'Crimson dragon wings', description: 'Huge wings for your avatar', category: 'wings' },
        { title: 'Dragon tail', description: 'Scaly and green', category: 'tails' },
        { title: 'Silk kimono', description: 'Hand painted dragons on silk', category: 'clothing' },
        { title: 'Velvet sofa', description: 'Comfortable', category: 'furniture' },
        { title: 'Oak table', description: 'Solid wood', category: 'furniture' },
      ];
      for (const item of items) ids.push((await publishListing(t, seller, admin, { ...item, profit: 50 })).id);
      await draft(seller, { title: 'Secret dragon draft' }).expect(201);
    });

    /** Every page of a listing query, following nextCursor. */
    async function allPages(url: string): Promise<{ id: string; title: string }[][]> {
      const pages: { id: string; title: string }[][] = [];
      let cursor: string | null = null;
      do {
        const res: { body: { items: { id: string; title: string }[]; nextCursor: string | null } } = await t
          .http()
          .get(`${url}${cursor ? `&cursor=${cursor}` : ''}`)
          .expect(200);
        pages.push(res.body.items);
        cursor = res.body.nextCursor;
      } while (cursor);
      return pages;
    }

    it('finds published listings by full-text query on title and description', async () => {
      const few = await t.http().get(`/listings?q=wood&creatorId=${seller.id}`).expect(200);
      expect(few.body).toEqual({ items: [expect.objectContaining({ id: ids[4] })], nextCursor: null });
      const phrase = await allPages(`/listings?q=${encodeURIComponent('"dragon wings"')}&creatorId=${seller.id}`);
      expect(phrase.flat().map((l) => l.id)).toEqual([ids[0]]);
    });

    it('pages through more matches than it sorts exactly (stemmed: dragons), a bounded window of rows per page', async () => {
      // 3 matches > SEARCH_EXACT_MATCHES: the first page looks only at the 3 newest rows and finds one
      const pages = await allPages(`/listings?q=dragon&creatorId=${seller.id}&limit=2`);
      expect(pages[0].map((l) => l.title)).toEqual(['Silk kimono']);
      expect(pages.flat().map((l) => l.title)).toEqual(['Silk kimono', 'Dragon tail', 'Crimson dragon wings']);
    });

    it('filters by category and creator', async () => {
      const res = await t.http().get(`/listings?category=furniture&creatorId=${seller.id}`).expect(200);
      expect(res.body.items.map((l: { id: string }) => l.id)).toEqual([ids[4], ids[3]]);
    });

    it('pages newest first with a cursor, every listing exactly once', async () => {
      const pages = await allPages(`/listings?creatorId=${seller.id}&limit=2`);
      expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
      expect(pages.flat().map((l) => l.id)).toEqual([...ids].reverse());
    });

    it('hides drafts and answers bad cursors and ids with 400', async () => {
      const [draftRow] = await t.sql<{ id: string }>(`SELECT id FROM listings WHERE title = 'Secret dragon draft'`);
      expect((await t.http().get(`/listings/${draftRow.id}`).expect(404)).body.code).toBe('NOT_FOUND');
      const forged = Buffer.from(JSON.stringify(['not a time', 'x'])).toString('base64url');
      expect((await t.http().get(`/listings?cursor=${forged}`).expect(400)).body.code).toBe('VALIDATION_FAILED');
      expect((await t.http().get(`/listings/not-a-uuid`).expect(400)).body.code).toBe('VALIDATION_FAILED');
    });

    it("lists the creator's own listings in every state", async () => {
      const res = await as(t, seller).get('/me/listings?limit=200').expect(200);
      expect(res.body.items).toHaveLength(6);
      expect(res.body.items[0]).toMatchObject({ title: 'Secret dragon draft', status: 'draft' });
    });
  });
});

import { Actor, as, fund, makeAdmin, publishListing, signInAgain, signUp, signUpCreator } from '../support/market-fixtures';
import { clockNow, inBatches } from '../support/reseller-fixtures';
import { EconomyRollups1763900031000 } from '../../migrations/1763900031000-EconomyRollups';
import { EconomyRollupsSaleLines1763900031500 } from '../../migrations/1763900031500-EconomyRollupsSaleLines';
import { EconomyRollupsItemGifts1763900031700 } from '../../migrations/1763900031700-EconomyRollupsItemGifts';
import { runCliIn } from '../support/in-process-cli';
import { expectRoundTrip } from '../support/migration-round-trip';
import { TestApp, useTestApp } from '../support/test-app';

const DAY = 86_400;
const HOUR = 3600;

interface OrderFigures {
  gmv: unknown;
  platformRevenue: number;
  creatorEarnings: unknown;
  patterns: { sales: number; returningBuyerSales: number; orbits: unknown; newBuyers: unknown; gifts: unknown };
}

/**
 * The economy report's rollup of the orders (docs/economy.md, "Speed"): a history on UTC days, rolled up
 * by the job between its days, with an order held for review across a run (the rollup passes it) and
 * approved after it (its day rolled up again), and sales after the last run.
 * The report's order figures are exact whatever was rolled up, and the same after the rollup is lost,
 * and after it is rebuilt by the CLI.
 */
describe('economy report rollups', () => {
  let t: TestApp;
  useTestApp((app) => (t = app), { FRAUD_RULES_CACHE_MS: '0' });

  let admin: Actor, c1: Actor, c2: Actor, b1: Actor, b2: Actor, b3: Actor, b4: Actor, b5: Actor;
  let l: string[], m: string[], heldListing: string;
  let d0: Date;

  const runJobs = () => t.http().post('/dev/jobs/run').expect(200);
  const advance = async (seconds: number) => {
    await t.http().post('/dev/clock').send({ advanceSeconds: seconds }).expect(200);
    await inBatches([admin, c1, c2, b1, b2, b3, b4, b5], 4, (a) => signInAgain(t, a));
  };
  const buy = async (a: Actor, listingId: string, status = 'completed', giftTo?: Actor) => {
    const res = await as(t, a)
      .post('/orders', { listingId, ...(giftTo && { giftToUserId: giftTo.id }) })
      .expect(201);
    expect(res.body.status).toBe(status);
    return res.body.id as string;
  };
  const report = async (interval = 'day', to = new Date(d0.getTime() + 3 * DAY * 1000)) => {
    const body = (
      await as(t, admin).get(`/admin/economy/report?from=${d0.toISOString()}&to=${to.toISOString()}&interval=${interval}`).expect(200)
    ).body;
    const orders = (r: {
      money: { gmv: unknown; platformRevenue: number; creatorEarnings: unknown };
      patterns: OrderFigures['patterns'];
    }): OrderFigures => ({
      gmv: r.money.gmv,
      platformRevenue: r.money.platformRevenue,
      creatorEarnings: r.money.creatorEarnings,
      patterns: r.patterns,
    });
    return { intervals: (body.intervals as Parameters<typeof orders>[0][]).map(orders), total: orders(body.total) };
  };
  const state = async () => (await t.sql<{ orders_until: Date | null }>(`SELECT orders_until FROM economy_rollup_state`))[0].orders_until;

  beforeAll(async () => {
    admin = await makeAdmin(t, await signUp(t, 'admin'));
    [c1, c2] = [await signUpCreator(t, 'c1'), await signUpCreator(t, 'c2')];
    [b1, b2, b3, b4, b5] = await inBatches(['b1', 'b2', 'b3', 'b4', 'b5'], 4, (label) => signUp(t, label));
    l = [];
    for (let i = 0; i < 6; i++) l.push((await publishListing(t, c1, admin, { profit: 1000 })).id);
    m = [(await publishListing(t, c2, admin, { profit: 2000 })).id, (await publishListing(t, c2, admin, { profit: 2000 })).id];
    heldListing = (await publishListing(t, c2, admin, { profit: 5000 })).id;
    for (const b of [b1, b2, b3, b4, b5]) await fund(t, b.id, 'CREDIT', 20_000);
    await as(t, admin)
      .post('/admin/fraud/rules', {
        name: 'rollup-review-5500',
        action: 'REVIEW',
        score: 60,
        condition: { '==': [{ var: 'event.amount' }, 5500] },
        eventTypes: ['item_purchase'],
        mode: 'ACTIVE',
      })
      .expect(201);
    // Day 0 starts at the next UTC midnight; the history starts an hour into it.
    const now = (await clockNow(t)).getTime() / 1000;
    d0 = new Date((Math.floor(now / DAY) + 1) * DAY * 1000);
    await advance(Math.ceil(d0.getTime() / 1000 - now) + HOUR);
  }, 180_000);

  it('reports the order figures exactly from the rollup and the live tail, and the same once lost and rebuilt', async () => {
    const empty = await report();
    expect(empty.total.gmv).toEqual({ CREDIT: { orders: 0, amount: 0 }, PROMO: { orders: 0, amount: 0 } });

    // Day 0: b1 buys five items of c1, b2 two, b3 one of c2; b4's purchase of c2 is held for review, b2 buys of c2 after it.
    for (const id of l.slice(0, 5)) await buy(b1, id);
    for (const id of l.slice(0, 2)) await buy(b2, id);
    await buy(b3, m[0]);
    const held = await buy(b4, heldListing, 'held_for_review');
    await buy(b2, m[1]);
    const [{ created_at: heldAt }] = await t.sql<{ created_at: Date }>(`SELECT created_at FROM orders WHERE id = $1`, [held]);
    await advance(HOUR);
    await runJobs();
    // The held order is no sale (yet): the rollup passes it, up to 10 minutes before now.
    expect((await state())!.getTime()).toBeGreaterThan(heldAt.getTime());
    const metrics = (await t.http().get('/metrics').expect(200)).text;
    expect(Number(/^economy_rollup_lag_seconds (\S+)$/m.exec(metrics)?.[1])).toBe(600);
    const sale = (orders: number, amount: number) => ({ CREDIT: { orders, amount }, PROMO: { orders: 0, amount: 0 } });
    const day0 = (i: OrderFigures) => [i.gmv, i.patterns.sales, i.patterns.orbits, i.patterns.newBuyers];
    expect(day0((await report()).intervals[0])).toEqual([
      sale(9, 7 * 1100 + 2 * 2200),
      9,
      { one: 2, twoToFour: 1, fivePlus: 1 },
      { count: 3, secondPurchaseWithin30Days: 2, share: 2 / 3 },
    ]);

    // Day 1: the review approved: a sale of day 0, read live from day 0 until the job rolls that day up again.
    await advance(DAY);
    const review = (await as(t, admin).get('/admin/fraud/reviews?status=open').expect(200)).body.items.find(
      (i: { subjectId: string }) => i.subjectId === held,
    );
    await as(t, admin).post(`/admin/fraud/reviews/${review.id}/approve`, { note: 'fine' }).expect(200);
    const approved = [
      sale(10, 7 * 1100 + 2 * 2200 + 5500),
      10,
      { one: 3, twoToFour: 1, fivePlus: 1 },
      { count: 4, secondPurchaseWithin30Days: 2, share: 0.5 },
    ];
    expect(day0((await report()).intervals[0])).toEqual(approved);
    // b1 buys a sixth item of c1, b5 (new) one of c1, b2 one for b3; the job rolls day 0 on again.
    await buy(b1, l[5]);
    await buy(b5, l[0]);
    await buy(b2, l[2], 'completed', b3);
    await advance(HOUR);
    await runJobs();
    expect(day0((await report()).intervals[0])).toEqual(approved);
    const sold = async (day: Date) =>
      (await t.sql<{ n: number }>(`SELECT n::int FROM economy_order_facts WHERE kind = 'sale_credit' AND day = $1`, [day]))[0]?.n;
    expect(await sold(d0)).toBe(10);
    const rolledUntil = (await state())!;
    const [{ last }] = await t.sql<{ last: Date }>(`SELECT max(created_at) AS last FROM orders`);
    expect(rolledUntil.getTime()).toBeGreaterThan(last.getTime());

    // Day 2: b4 buys again within 30 days of the first purchase (the held one), b3 one for b2 (the gift answered);
    // no job runs, the tail is read live.
    await advance(DAY);
    await buy(b4, m[0]);
    await buy(b3, l[3], 'completed', b2);

    const figures = await report();
    expect(figures.intervals.map((i) => i.gmv)).toEqual([sale(10, 7 * 1100 + 2 * 2200 + 5500), sale(3, 3300), sale(2, 3300)]);
    expect(figures.total.gmv).toEqual(sale(15, 7 * 1100 + 2 * 2200 + 5500 + 3300 + 3300));
    // The creators' shares (the held sale's once approved, on day 1); none matured yet.
    expect(figures.total.creatorEarnings).toEqual({ accrued: 7 * 1000 + 2 * 2000 + 5000 + 3 * 1000 + 2000 + 1000, matured: 0 });
    expect(figures.intervals.map((i) => i.platformRevenue)).toEqual([7 * 100 + 2 * 200 + 500, 300, 300]);
    const p = (i: OrderFigures) => [i.patterns.sales, i.patterns.returningBuyerSales, i.patterns.orbits, i.patterns.newBuyers];
    expect(figures.intervals.map(p)).toEqual([
      // (b1,c1) 5 sales, (b2,c1) 2, (b3,c2), (b4,c2) and (b2,c2) 1; b1..b4 new, all four again within 30 days.
      [10, 5, { one: 3, twoToFour: 1, fivePlus: 1 }, { count: 4, secondPurchaseWithin30Days: 4, share: 1 }],
      // (b1,c1) and (b2,c1) returning, (b5,c1) new.
      [3, 2, { one: 3, twoToFour: 0, fivePlus: 0 }, { count: 1, secondPurchaseWithin30Days: 0, share: 0 }],
      // (b4,c2) returning, (b3,c1) new.
      [2, 1, { one: 2, twoToFour: 0, fivePlus: 0 }, { count: 0, secondPurchaseWithin30Days: 0, share: null }],
    ]);
    // Over the three days: (b1,c1) 6, (b2,c1) 3, (b4,c2) 2, (b3,c2), (b2,c2), (b5,c1), (b3,c1) 1.
    expect(p(figures.total)).toEqual([
      15,
      8,
      { one: 4, twoToFour: 2, fivePlus: 1 },
      { count: 5, secondPurchaseWithin30Days: 4, share: 0.8 },
    ]);
    // b2's gift to b3 (rolled up) answered by b3's (live).
    expect(figures.intervals.map((i) => i.patterns.gifts)).toEqual([
      { count: 0, answered: 0, reciprocity: null },
      { count: 1, answered: 1, reciprocity: 1 },
      { count: 1, answered: 0, reciprocity: 0 },
    ]);
    expect(figures.total.patterns.gifts).toEqual({ count: 2, answered: 1, reciprocity: 0.5 });
    // One week-long interval: the whole range again.
    expect((await report('week')).intervals).toEqual([figures.total]);

    // The job catches up with the tail: the same report.
    await advance(HOUR);
    await runJobs();
    expect((await state())!.getTime()).toBeGreaterThan(rolledUntil.getTime());
    expect(await report()).toEqual(figures);

    // A range to 02:00 of day 2: its whole days from the rollup, the last one's two hours live (no sale then;
    // the second purchases after `to` counted with their first).
    const partialTo = new Date(d0.getTime() + (2 * DAY + 2 * HOUR) * 1000);
    const partial = await report('day', partialTo);
    expect(partial.intervals.slice(0, 2)).toEqual(figures.intervals.slice(0, 2));
    expect(partial.intervals[2].gmv).toEqual(sale(0, 0));

    // Lost: read live from the orders, the same reports; the job's next run rolls everything up again.
    await t.sql(`TRUNCATE economy_order_facts`);
    await t.sql(`UPDATE economy_rollup_state SET orders_until = NULL`);
    expect(await report()).toEqual(figures);
    expect(await report('day', partialTo)).toEqual(partial);
    await runJobs();
    expect(await state()).not.toBeNull();
    expect(await report()).toEqual(figures);
    // Only the facts lost, under the watermark: read live, and the job starts again from the first sale.
    await t.sql(`TRUNCATE economy_order_facts`);
    expect(await report()).toEqual(figures);
    await runJobs();
    expect(await t.sql(`SELECT 1 FROM economy_order_facts LIMIT 1`)).toHaveLength(1);
    expect(await report()).toEqual(figures);

    // Rebuilt from the orders: the same report from the rollup.
    expect(await runCliIn(t, ['economy', 'rollups'])).toMatchObject({ code: 2, err: expect.stringContaining('economy rollups rebuild') });
    const rebuilt = await runCliIn(t, ['economy', 'rollups', 'rebuild']);
    expect(rebuilt).toMatchObject({ code: 0, out: expect.stringContaining('Economy rollup rebuilt') });
    expect(await state()).not.toBeNull();
    const [{ n }] = await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM economy_order_facts WHERE kind = 'sale_credit'`);
    expect(n).toBe(3);
    expect(await report()).toEqual(figures);
    // ... read from the rollup indeed: a day changed in it shows.
    await t.sql(`UPDATE economy_order_facts SET n = n + 1 WHERE kind = 'sale_credit' AND day = $1`, [d0]);
    expect((await report()).intervals[0].gmv).toEqual(sale(11, 7 * 1100 + 2 * 2200 + 5500));
    expect((await report('day', partialTo)).intervals[0].gmv).toEqual(sale(11, 7 * 1100 + 2 * 2200 + 5500));
    await t.sql(`UPDATE economy_order_facts SET n = n - 1 WHERE kind = 'sale_credit' AND day = $1`, [d0]);
  });

  it('has migrations that go down and up again to the same schema', async () => {
    await expectRoundTrip(
      [new EconomyRollups1763900031000(), new EconomyRollupsSaleLines1763900031500(), new EconomyRollupsItemGifts1763900031700()],
      (schema) => expect(schema).not.toMatch(/economy_(order_facts|rollup_state|item_gifts)/),
    );
  });
});

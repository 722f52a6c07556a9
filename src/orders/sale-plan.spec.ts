import fc from 'fast-check';
import type { ListingForSale } from '../catalog/catalog.service';
import { priceOf } from '../catalog/pricing';
import { Posting } from '../ledger/ledger.service';
import { mergePostings, planSale } from './sale-plan';

const creators = ['c0', 'c1', 'c2', 'c3'];
const now = new Date('2030-01-01T00:00:00Z');
const rules = { royaltyCapPercent: 20, devTokensPerCreator: 1, now, maturesAt: () => new Date('2030-02-01T00:00:00Z') };

/** A listing with a random derivation chain whose creators may repeat. */
const listing = fc
  .record({
    profit: fc.bigInt({ min: 0n, max: 1_000_000n }),
    chain: fc.array(fc.record({ creator: fc.constantFrom(...creators), profit: fc.bigInt({ min: 0n, max: 1_000_000n }) }), {
      maxLength: 10,
    }),
    seller: fc.constantFrom(...creators),
  })
  .map(({ profit, chain, seller }): ListingForSale => {
    const p = priceOf(
      profit,
      chain.map((c) => c.profit),
      10,
    );
    return {
      id: 'sold',
      creatorId: seller,
      title: 'x',
      status: 'published',
      ...p,
      ancestors: chain.map((c, i) => ({ listingId: `l${i}`, creatorId: c.creator, profit: c.profit })),
    };
  });

const sumBy = (postings: Posting[], asset: string) => postings.filter((p) => p.account.asset === asset).reduce((s, p) => s + p.amount, 0n);

describe('sale plan', () => {
  it('CREDIT: the legs add up to exactly the price the buyer pays, one leg per account, none zero', () => {
    fc.assert(
      fc.property(listing, (l) => {
        const plan = planSale(l, 'CREDIT', rules);
        expect(sumBy(plan.postings, 'CREDIT')).toBe(l.price);
        expect(plan.postings.every((p) => p.amount > 0n)).toBe(true);
        expect(new Set(plan.postings.map((p) => JSON.stringify(p.account))).size).toBe(plan.postings.length);
        expect(plan.lines).toHaveLength(l.ancestors.length + 1);
        expect(plan.lines.reduce((s, x) => s + x.amount, 0n)).toBe(l.price - l.platformFee);
        expect(plan.lines.every((x) => x.status === 'pending' && x.asset === 'CREDIT')).toBe(true);
      }),
    );
  });

  it('PROMO: burns the price and issues DEV_TOKENs once per distinct creator in the chain', () => {
    fc.assert(
      fc.property(listing, (l) => {
        const plan = planSale(l, 'PROMO', rules);
        expect(sumBy(plan.postings, 'PROMO')).toBe(l.price);
        expect(sumBy(plan.postings, 'DEV_TOKEN')).toBe(0n);
        const distinct = new Set([l.creatorId, ...l.ancestors.map((a) => a.creatorId)]);
        expect(plan.lines.map((x) => x.creatorId).sort()).toEqual([...distinct].sort());
        const minted = l.price > 0n ? BigInt(distinct.size) : 0n;
        expect(plan.lines.reduce((s, x) => s + x.amount, 0n)).toBe(minted);
        expect(plan.lines.every((x) => x.status === 'matured')).toBe(true);
      }),
    );
  });

  it('merges legs per account and drops zeros', () => {
    const a = { userId: 'u', asset: 'CREDIT' as const, name: 'earnings_pending' as const };
    const b = { system: 'platform_revenue' as const, asset: 'CREDIT' as const };
    expect(
      mergePostings([
        { account: a, amount: 5n },
        { account: b, amount: 0n },
        { account: a, amount: 7n },
      ]),
    ).toEqual([{ account: a, amount: 12n }]);
  });
});

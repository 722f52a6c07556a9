import fc from 'fast-check';
import { priceOf, splitCreditSale } from './pricing';

const amount = fc.bigInt({ min: 0n, max: 10_000_000n });
const chain = fc.array(amount, { maxLength: 12 });
const percent = fc.integer({ min: 0, max: 100 });

describe('IMVU price formula', () => {
  it('prices a root item as profit plus a 10% markup rounded up', () => {
    expect(priceOf(1000n, [], 10)).toEqual({ derivationCost: 0n, profit: 1000n, platformFee: 100n, price: 1100n });
    expect(priceOf(1001n, [], 10)).toEqual({ derivationCost: 0n, profit: 1001n, platformFee: 101n, price: 1102n });
    expect(priceOf(0n, [], 10).price).toBe(0n);
  });

  it('adds the ancestors profits as the derivation cost', () => {
    expect(priceOf(50n, [300n, 200n], 10)).toEqual({ derivationCost: 500n, profit: 50n, platformFee: 55n, price: 605n });
  });

  it('price = derivationCost + profit + ceil(markup% of both), for any chain', () => {
    fc.assert(
      fc.property(amount, chain, percent, (profit, ancestors, pct) => {
        const p = priceOf(profit, ancestors, pct);
        const base = p.derivationCost + profit;
        expect(p.derivationCost).toBe(ancestors.reduce((a, b) => a + b, 0n));
        expect(p.price).toBe(base + p.platformFee);
        // the smallest integer fee that is at least pct% of the base
        expect(p.platformFee * 100n).toBeGreaterThanOrEqual(base * BigInt(pct));
        expect((p.platformFee - 1n) * 100n).toBeLessThan(base * BigInt(pct));
      }),
    );
  });

  it('refuses negative profits', () => {
    expect(() => priceOf(-1n, [], 10)).toThrow(RangeError);
    expect(() => priceOf(1n, [5n, -1n], 10)).toThrow(RangeError);
  });
});

describe('split of a CREDIT sale', () => {
  it('pays ancestors their profits when under the cap', () => {
    // base 1100, fee 110, price 1210, cap 242: the 100 of royalties fits
    expect(splitCreditSale(priceOf(1000n, [100n], 10), [100n], 20)).toEqual({ ancestors: [100n], seller: 1000n, platform: 110n });
  });

  it('shrinks ancestor shares proportionally above the cap and gives the rest to the seller', () => {
    // derivationCost 900, profit 100, fee 100, price 1100, cap 220: shares 600*220/900=146, 300*220/900=73
    expect(splitCreditSale(priceOf(100n, [600n, 300n], 10), [600n, 300n], 20)).toEqual({
      ancestors: [146n, 73n],
      seller: 781n,
      platform: 100n,
    });
  });

  it('always sums to the price and never pays ancestors above the cap', () => {
    fc.assert(
      fc.property(amount, chain, percent, percent, (profit, ancestors, pct, cap) => {
        const price = priceOf(profit, ancestors, pct);
        const s = splitCreditSale(priceOf(profit, ancestors, pct), ancestors, cap);
        const royalties = s.ancestors.reduce((a, b) => a + b, 0n);
        expect(royalties + s.seller + s.platform).toBe(price.price);
        expect(royalties * 100n).toBeLessThanOrEqual(price.price * BigInt(cap));
        expect(s.platform).toBe(price.platformFee);
        expect(s.seller).toBeGreaterThanOrEqual(profit);
        expect(s.ancestors).toHaveLength(ancestors.length);
        s.ancestors.forEach((share, i) => {
          expect(share).toBeGreaterThanOrEqual(0n);
          expect(share).toBeLessThanOrEqual(ancestors[i]);
        });
      }),
    );
  });

  it('keeps shares in proportion: a larger profit never gets a smaller share', () => {
    fc.assert(
      fc.property(amount, chain, percent, percent, (profit, ancestors, pct, cap) => {
        const s = splitCreditSale(priceOf(profit, ancestors, pct), ancestors, cap);
        ancestors.forEach((a, i) =>
          ancestors.forEach((b, j) => {
            if (a >= b) expect(s.ancestors[i]).toBeGreaterThanOrEqual(s.ancestors[j]);
          }),
        );
      }),
    );
  });

  it('refuses a breakdown that does not match the chain', () => {
    expect(() => splitCreditSale(priceOf(100n, [50n], 10), [40n], 20)).toThrow(RangeError);
    expect(() => splitCreditSale({ ...priceOf(100n, [50n], 10), price: 1n }, [50n], 20)).toThrow(RangeError);
  });

  it('pays exactly the profits whenever they fit under the cap', () => {
    fc.assert(
      fc.property(amount, chain, percent, percent, (profit, ancestors, pct, cap) => {
        const price = priceOf(profit, ancestors, pct);
        fc.pre(price.derivationCost * 100n <= price.price * BigInt(cap));
        expect(splitCreditSale(price, ancestors, cap)).toEqual({ ancestors, seller: profit, platform: price.platformFee });
      }),
    );
  });
});

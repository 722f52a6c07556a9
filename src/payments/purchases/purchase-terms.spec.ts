import type { TokenPackage } from '../packages/token-packages.repository';
import { termsOf, wholesalePriceCents } from './purchase-terms';

const pkg: TokenPackage = {
  id: 'p',
  name: 'Bulk',
  audience: 'reseller',
  priceCents: 9999n,
  currency: 'USD',
  credits: 100_000n,
  bonusPromo: 0n,
  active: true,
  createdAt: new Date(0),
  updatedAt: new Date(0),
};

describe('wholesale price', () => {
  it('takes the discount off the retail price, rounded up', () => {
    expect(wholesalePriceCents(10000n, 15)).toBe(8500n);
    // 9,999 × 0.85 = 8,499.15 → 8,500
    expect(wholesalePriceCents(9999n, 15)).toBe(8500n);
    expect(wholesalePriceCents(1n, 15)).toBe(1n);
    expect(wholesalePriceCents(1n, 99)).toBe(1n);
    expect(wholesalePriceCents(499n, 0)).toBe(499n);
  });

  it('makes wallet terms at the package price with its bonus, wholesale terms discounted without one', () => {
    expect(termsOf({ ...pkg, bonusPromo: 500n }, 'wallet', 15)).toEqual({
      packageId: 'p',
      destination: 'wallet',
      priceCents: 9999n,
      retailPriceCents: null,
      currency: 'USD',
      credits: 100_000n,
      bonusPromo: 500n,
    });
    expect(termsOf({ ...pkg, bonusPromo: 500n }, 'reseller_stock', 15)).toEqual({
      packageId: 'p',
      destination: 'reseller_stock',
      priceCents: 8500n,
      retailPriceCents: 9999n,
      currency: 'USD',
      credits: 100_000n,
      bonusPromo: 0n,
    });
  });
});

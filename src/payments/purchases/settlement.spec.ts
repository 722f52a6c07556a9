import fc from 'fast-check';
import { adjustment, clawedDebtAfterGrant, entitlement, repayableDebt, splitGrant } from './settlement';

describe('purchase settlement planning', () => {
  const paid = { status: 'succeeded' as const, credits: 10_000n, bonusPromo: 1_000n, priceCents: 999n, refundedCents: 0n, refused: false };

  it('is due the whole package while paid, nothing otherwise', () => {
    expect(entitlement(paid)).toEqual({ credits: 10_000n, promo: 1_000n });
    for (const status of ['pending', 'failed', 'refunded', 'disputed'] as const) {
      expect(entitlement({ ...paid, status })).toEqual({ credits: 0n, promo: 0n });
    }
    expect(entitlement({ ...paid, refundedCents: 999n })).toEqual({ credits: 0n, promo: 0n });
  });

  it('is due nothing from a purchase the fraud checks refused, whatever its status', () => {
    for (const status of ['pending', 'succeeded', 'failed', 'refunded', 'disputed'] as const) {
      expect(entitlement({ ...paid, status, refused: true })).toEqual({ credits: 0n, promo: 0n });
    }
  });

  it('plans grants and clawbacks as the difference between due and granted', () => {
    expect(adjustment({ credits: 10n, promo: 1n }, { credits: 0n, promo: 0n })).toEqual({ kind: 'grant', credits: 10n, promo: 1n });
    expect(adjustment({ credits: 0n, promo: 0n }, { credits: 10n, promo: 1n })).toEqual({ kind: 'clawback', credits: 10n, promo: 1n });
    expect(adjustment({ credits: 10n, promo: 1n }, { credits: 10n, promo: 1n })).toEqual({ kind: 'none' });
  });

  it('repays debt first, then restores clawed earnings, then fills the destination', () => {
    expect(splitGrant(1_000n, 300n, 200n)).toEqual({ toDebt: 300n, toEarnings: 200n, toDestination: 500n });
    expect(splitGrant(1_000n, 5_000n, 200n)).toEqual({ toDebt: 1_000n, toEarnings: 0n, toDestination: 0n });
    expect(splitGrant(1_000n, 0n, 0n)).toEqual({ toDebt: 0n, toEarnings: 0n, toDestination: 1_000n });
  });

  it('lets wallet credits repay any debt, and reseller stock only the debt its own clawbacks made', () => {
    expect(repayableDebt('wallet', 5_000n, 0n)).toBe(5_000n);
    expect(repayableDebt('reseller_stock', 5_000n, 0n)).toBe(0n);
    expect(repayableDebt('reseller_stock', 5_000n, 2_000n)).toBe(2_000n);
    // Repaid meanwhile by a wallet purchase: what is left of it.
    expect(repayableDebt('reseller_stock', 500n, 2_000n)).toBe(500n);
    expect(clawedDebtAfterGrant(2_000n, 500n)).toBe(1_500n);
    expect(clawedDebtAfterGrant(2_000n, 5_000n)).toBe(0n);
  });

  it('never splits a grant into negative or more-than-granted parts', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }),
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        (amount, owed, clawed) => {
          const s = splitGrant(amount, owed, clawed);
          expect(s.toDebt + s.toEarnings + s.toDestination).toBe(amount);
          expect([s.toDebt, s.toEarnings, s.toDestination].every((x) => x >= 0n)).toBe(true);
          expect(s.toDebt <= (owed > 0n ? owed : 0n)).toBe(true);
          expect(s.toEarnings <= clawed).toBe(true);
        },
      ),
    );
  });

  it('takes back more the more is refunded, and credits and promo move together', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 999n }), fc.bigInt({ min: 0n, max: 999n }), (a, b) => {
        const [lo, hi] = a < b ? [a, b] : [b, a];
        const before = entitlement({ ...paid, refundedCents: lo });
        const after = entitlement({ ...paid, refundedCents: hi });
        expect(after.credits <= before.credits && after.promo <= before.promo).toBe(true);
        const adj = adjustment(after, before);
        expect(adj.kind === 'none' || adj.kind === 'clawback').toBe(true);
      }),
    );
  });
});

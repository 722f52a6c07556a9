import type { ListingForSale } from '../catalog/catalog.service';
import { splitCreditSale } from '../catalog/pricing';
import { Posting, systemAccount, userAccount } from '../ledger/ledger.service';

export type PayWith = 'CREDIT' | 'PROMO';

/** One creator's part of one sale, as recorded in `sale_earnings`. */
export interface EarningLine {
  creatorId: string;
  /** The creator's listing in the sold item's chain. */
  listingId: string;
  role: 'seller' | 'ancestor';
  asset: 'CREDIT' | 'DEV_TOKEN';
  amount: bigint;
  status: 'pending' | 'matured';
  maturesAt: Date;
  maturedAt: Date | null;
}

export interface SalePlan {
  /** Every leg of the sale's ledger entry except the buyer's payment (which `price` in `payWith` balances). */
  postings: Posting[];
  lines: EarningLine[];
}

export interface SaleRules {
  royaltyCapPercent: number;
  devTokensPerCreator: number;
  now: Date;
  /** When a CREDIT share earned by this creator now leaves `earnings_pending`. */
  maturesAt(creatorId: string): Date;
}

/**
 * What a sale pays to whom (ECONOMY.md). CREDIT: ancestors and seller into `earnings_pending` (the
 * royalty cap applied), the markup to `platform_revenue`. PROMO: the whole price is burned and every
 * distinct creator in the chain receives freshly issued DEV_TOKENs (none for a free item, which would
 * otherwise mint tokens out of nothing).
 */
export function planSale(listing: ListingForSale, payWith: PayWith, rules: SaleRules): SalePlan {
  const chain = [
    { listingId: listing.id, creatorId: listing.creatorId, role: 'seller' as const },
    ...listing.ancestors.map((a) => ({ listingId: a.listingId, creatorId: a.creatorId, role: 'ancestor' as const })),
  ];
  if (payWith === 'CREDIT') {
    const split = splitCreditSale(
      listing,
      listing.ancestors.map((a) => a.profit),
      rules.royaltyCapPercent,
    );
    const shares = [split.seller, ...split.ancestors];
    const lines = chain.map((c, i): EarningLine => ({
      ...c,
      asset: 'CREDIT',
      amount: shares[i],
      status: 'pending',
      maturesAt: rules.maturesAt(c.creatorId),
      maturedAt: null,
    }));
    return {
      lines,
      postings: mergePostings([
        ...lines.map((l) => ({ account: userAccount(l.creatorId, 'CREDIT', 'earnings_pending'), amount: l.amount })),
        { account: systemAccount('platform_revenue', 'CREDIT'), amount: split.platform },
      ]),
    };
  }
  const perCreator = listing.price > 0n ? BigInt(rules.devTokensPerCreator) : 0n;
  const seen = new Set<string>();
  const lines = chain
    .filter((c) => !seen.has(c.creatorId) && seen.add(c.creatorId))
    .map((c): EarningLine => ({
      ...c,
      asset: 'DEV_TOKEN',
      amount: perCreator,
      status: 'matured',
      maturesAt: rules.now,
      maturedAt: rules.now,
    }));
  return {
    lines,
    postings: mergePostings([
      { account: systemAccount('burn', 'PROMO'), amount: listing.price },
      ...lines.map((l) => ({ account: userAccount(l.creatorId, 'DEV_TOKEN', 'wallet'), amount: l.amount })),
      { account: systemAccount('issuance', 'DEV_TOKEN'), amount: -perCreator * BigInt(lines.length) },
    ]),
  };
}

/** Sums the legs per account and drops the zero ones (a creator twice in a chain gets one leg). */
export function mergePostings(postings: readonly Posting[]): Posting[] {
  const byAccount = new Map<string, Posting>();
  for (const p of postings) {
    const key = JSON.stringify(p.account);
    const prev = byAccount.get(key);
    byAccount.set(key, { account: p.account, amount: (prev?.amount ?? 0n) + p.amount });
  }
  return [...byAccount.values()].filter((p) => p.amount !== 0n);
}

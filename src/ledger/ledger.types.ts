export const ASSETS = ['CREDIT', 'PROMO', 'DEV_TOKEN'] as const;
export type Asset = (typeof ASSETS)[number];

export const USER_ACCOUNT_NAMES = ['wallet', 'earnings_pending', 'earnings', 'reseller_stock', 'bond', 'debt'] as const;
export type UserAccountName = (typeof USER_ACCOUNT_NAMES)[number];

export const SYSTEM_ACCOUNT_NAMES = ['issuance', 'platform_revenue', 'burn', 'escrow', 'chargeback_loss'] as const;
export type SystemAccountName = (typeof SYSTEM_ACCOUNT_NAMES)[number];

export type AccountName = UserAccountName | SystemAccountName;

export type AccountRef = { userId: string; asset: Asset; name: UserAccountName } | { system: SystemAccountName; asset: Asset };

export const userAccount = (userId: string, asset: Asset, name: UserAccountName): AccountRef => ({ userId, asset, name });
export const systemAccount = (name: SystemAccountName, asset: Asset): AccountRef => ({ system: name, asset });

/** Signed: + increases the account's balance, - decreases it; per asset the postings of an entry sum to 0. */
export interface Posting {
  account: AccountRef;
  amount: bigint;
}

/**
 * What `debitInOrder` found spendable in each account it locked (by account key). The locks last until
 * the caller's transaction ends, so `post` in that transaction may use it instead of locking and
 * reading again. Only an over-estimate could hurt, and the balance rows' CHECK still refuses that.
 */
export type LockedFunds = ReadonlyMap<string, bigint>;

export interface EntryInput {
  /** 'mint' | 'signup_bonus' | 'purchase' | 'gift' | 'fee' | 'clawback' | 'refund' | ... (free text, indexed) */
  kind: string;
  /** Unique idempotency reference, e.g. `token_purchase:${purchaseId}:mint`. */
  reference: string;
  postings: Posting[];
  metadata?: Record<string, unknown>;
}

/** `replayed` is true when the reference already existed with identical content. */
export interface PostedEntry {
  entryId: string;
  replayed: boolean;
}

export interface HoldInput {
  reference: string;
  kind: string;
  from: AccountRef;
  to: AccountRef;
  amount: bigint;
  expiresAt: Date;
  metadata?: Record<string, unknown>;
}

export interface AccountBalance {
  posted: bigint;
  held: bigint;
  available: bigint;
}

/** One posting in an account history (GET /me/ledger). */
export interface LedgerLine {
  id: string;
  entryId: string;
  account: AccountName;
  asset: Asset;
  amount: bigint;
  balanceAfter: bigint;
  kind: string;
  createdAt: Date;
}

export interface AssetReport {
  /** Sum of every account's balance in the asset: must be 0. */
  sum: bigint;
  /** Everything ever issued (debits of `issuance`). */
  minted: bigint;
  /** What sits in `burn`. */
  burned: bigint;
  /** Tokens in circulation: minus the balance of `issuance`. */
  supply: bigint;
}

export interface VerifyProblem {
  code: string;
  detail: string;
}

export interface VerifyReport {
  ok: boolean;
  /** Number of entries. */
  entries: number;
  sealed: number;
  /** Entries not chained yet (their transaction may still be running somewhere, or the sealer lags). */
  unsealed: number;
  chainOk: boolean;
  accounts: number;
  assets: Record<Asset, AssetReport>;
  problems: VerifyProblem[];
}

/** One asset's supply at an instant (LedgerService.supplyAt). */
export interface AssetSupply {
  /** Everything issued up to the instant: the debits of `issuance`. */
  minted: bigint;
  /** What sits in `burn`. */
  burned: bigint;
  /** In circulation: minus the balance of `issuance`, less what was burned; the sum of `byAccount`. */
  outstanding: bigint;
  /** `outstanding` split by account name, summed over owners (user sub-accounts and the system's other accounts). */
  byAccount: Partial<Record<AccountName, bigint>>;
}

export interface SupplyReport {
  /** The instant asked for; null: now (every committed entry). */
  at: Date | null;
  assets: Record<Asset, AssetSupply>;
  /**
   * Where the postings disagree with the ledger's own sums in the same snapshot: an asset whose accounts
   * do not sum to zero, and (for now) an account name whose postings differ from its balance rows.
   */
  mismatches: string[];
}

/** CREDIT debt per interval: debited (created) and credited (repaid), with what was owed before the first. */
export interface DebtFlows {
  opening: bigint;
  intervals: Map<number, { created: bigint; repaid: bigint }>;
}

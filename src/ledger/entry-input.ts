import { createHash } from 'node:crypto';
import { compareText } from '../common/compare';
import { isUuid } from '../common/ids';
import { MAX_AMOUNT } from '../common/money';
import { LedgerErrors } from './ledger.errors';
import { AccountRef, Asset, ASSETS, EntryInput, HoldInput, SYSTEM_ACCOUNT_NAMES, USER_ACCOUNT_NAMES } from './ledger.types';
import { uuidv7 } from './uuid7';

/** The nil UUID stands for "the platform" as owner of the system accounts. */
export const SYSTEM_OWNER = '00000000-0000-0000-0000-000000000000';
export const MAX_LEGS = 64;
const MAX_METADATA_BYTES = 16 * 1024;

/** An account reference, checked and normalized; `key` identifies it in maps and caches. */
export interface ResolvedRef {
  key: string;
  ref: AccountRef;
  ownerId: string;
  asset: Asset;
  name: string;
  allowNegative: boolean;
}

export interface PreparedLeg {
  id: string;
  account: ResolvedRef;
  amount: bigint;
}

/** A validated entry, ready to be written; nothing about it can fail validation any more. */
export interface PreparedEntry {
  id: string;
  reference: string;
  kind: string;
  metadataJson: string;
  contentHash: string;
  createdAt: Date;
  legs: PreparedLeg[];
}

export function resolveRef(value: unknown, field: string): ResolvedRef {
  const ref = value as Record<string, unknown> | null;
  if (!ref || typeof ref !== 'object') throw LedgerErrors.unknownAccount(field);
  const asset = ref.asset as Asset;
  if (!ASSETS.includes(asset)) throw LedgerErrors.unknownAccount(field);
  if ('userId' in ref && !('system' in ref)) {
    const userId = ref.userId;
    const name = ref.name as (typeof USER_ACCOUNT_NAMES)[number];
    if (!isUuid(userId) || userId === SYSTEM_OWNER) throw LedgerErrors.unknownAccount(field);
    if (!USER_ACCOUNT_NAMES.includes(name)) throw LedgerErrors.unknownAccount(field);
    const ownerId = userId.toLowerCase();
    return {
      key: `${ownerId}/${asset}/${name}`,
      ref: { userId: ownerId, asset, name },
      ownerId,
      asset,
      name,
      allowNegative: name === 'debt',
    };
  }
  if ('system' in ref && !('userId' in ref)) {
    const name = ref.system as (typeof SYSTEM_ACCOUNT_NAMES)[number];
    if (!SYSTEM_ACCOUNT_NAMES.includes(name)) throw LedgerErrors.unknownAccount(field);
    return {
      key: `${SYSTEM_OWNER}/${asset}/${name}`,
      ref: { system: name, asset },
      ownerId: SYSTEM_OWNER,
      asset,
      name,
      allowNegative: name === 'issuance',
    };
  }
  throw LedgerErrors.unknownAccount(field);
}

/** A positive or negative amount (never zero) within the bounds every amount obeys. */
export function checkAmount(value: unknown, field: string, sign: 'nonzero' | 'positive'): bigint {
  let v: bigint | undefined;
  if (typeof value === 'bigint') v = value;
  else if (typeof value === 'number' && Number.isSafeInteger(value)) v = BigInt(value);
  if (v === undefined) throw LedgerErrors.invalid('must be an integer amount', field);
  if (v > MAX_AMOUNT || v < -MAX_AMOUNT) throw LedgerErrors.invalid(`must be at most ${MAX_AMOUNT} in magnitude`, field);
  if (v === 0n) throw LedgerErrors.invalid('must not be zero', field);
  if (sign === 'positive' && v < 0n) throw LedgerErrors.invalid('must be positive', field);
  return v;
}

function checkText(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string' || value.length < 1 || value.length > max) {
    throw LedgerErrors.invalid(`must be a string of 1 to ${max} characters`, field);
  }
  return value;
}

/** JSON with object keys sorted at every level (bigints as strings): a stable form to hash. */
export function canonicalJson(value: unknown, seen: Set<unknown> = new Set()): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('non-finite number');
    return JSON.stringify(value);
  }
  if (typeof value === 'bigint') return JSON.stringify(value.toString());
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (typeof value === 'object') {
    if (seen.has(value)) throw new TypeError('circular');
    seen.add(value);
    const out = Array.isArray(value)
      ? `[${value.map((v) => canonicalJson(v === undefined ? null : v, seen)).join(',')}]`
      : `{${Object.keys(value as object)
          .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
          .sort()
          .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k], seen)}`)
          .join(',')}}`;
    seen.delete(value);
    return out;
  }
  throw new TypeError(`cannot encode ${typeof value}`);
}

function metadataJson(value: unknown): string {
  if (value === undefined) return '{}';
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw LedgerErrors.invalid('must be an object', 'metadata');
  let json: string;
  try {
    json = canonicalJson(value);
  } catch {
    throw LedgerErrors.invalid('must be JSON-serializable', 'metadata');
  }
  if (Buffer.byteLength(json) > MAX_METADATA_BYTES) throw LedgerErrors.invalid(`must be at most ${MAX_METADATA_BYTES} bytes`, 'metadata');
  return json;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Validates an entry completely (shape, accounts, amounts, balance per asset) without touching the database. */
export function prepareEntry(input: EntryInput, createdAt: Date): PreparedEntry {
  if (!input || typeof input !== 'object') throw LedgerErrors.invalid('must be an object', 'entry');
  const kind = checkText(input.kind, 'kind', 64);
  const reference = checkText(input.reference, 'reference', 300);
  const postings = input.postings as unknown;
  if (!Array.isArray(postings) || postings.length < 2 || postings.length > MAX_LEGS) {
    throw LedgerErrors.invalid(`must be an array of 2 to ${MAX_LEGS} postings`, 'postings');
  }
  const legs: PreparedLeg[] = postings.map((p: unknown, i) => {
    const posting = p as { account?: unknown; amount?: unknown } | null;
    if (!posting || typeof posting !== 'object') throw LedgerErrors.invalid('must be a posting', `postings[${i}]`);
    return {
      id: uuidv7(),
      account: resolveRef(posting.account, `postings[${i}].account`),
      amount: checkAmount(posting.amount, `postings[${i}].amount`, 'nonzero'),
    };
  });
  const sums = new Map<Asset, bigint>();
  for (const leg of legs) sums.set(leg.account.asset, (sums.get(leg.account.asset) ?? 0n) + leg.amount);
  for (const [asset, sum] of sums) if (sum !== 0n) throw LedgerErrors.unbalanced(asset);
  const metadata = metadataJson(input.metadata);
  const content = canonicalJson([kind, legs.map((l): [string, bigint] => [l.account.key, l.amount]).sort(compareLegKeys), metadata]);
  return { id: uuidv7(), reference, kind, metadataJson: metadata, contentHash: sha256(content), createdAt, legs };
}

function compareLegKeys(a: [string, bigint], b: [string, bigint]): number {
  if (a[0] !== b[0]) return compareText(a[0], b[0]);
  return a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
}

export interface PreparedHold {
  reference: string;
  kind: string;
  from: ResolvedRef;
  to: ResolvedRef;
  amount: bigint;
  expiresAt: Date;
  metadataJson: string;
  contentHash: string;
  createdAt: Date;
}

export function prepareHold(input: HoldInput, now: Date): PreparedHold {
  if (!input || typeof input !== 'object') throw LedgerErrors.invalid('must be an object', 'hold');
  const reference = checkText(input.reference, 'reference', 300);
  const kind = checkText(input.kind, 'kind', 64);
  const from = resolveRef(input.from, 'from');
  const to = resolveRef(input.to, 'to');
  if (from.key === to.key) throw LedgerErrors.invalid('must differ from the source account', 'to');
  if (from.asset !== to.asset) throw LedgerErrors.invalid('must be in the same asset as the source account', 'to');
  const amount = checkAmount(input.amount, 'amount', 'positive');
  const expiresAt = input.expiresAt;
  if (!(expiresAt instanceof Date) || Number.isNaN(expiresAt.getTime())) throw LedgerErrors.invalid('must be a date', 'expiresAt');
  if (expiresAt.getTime() <= now.getTime()) throw LedgerErrors.invalid('must be in the future', 'expiresAt');
  const metadata = metadataJson(input.metadata);
  // The expiry is left out: a retried request computes it afresh, and the first hold's expiry stands.
  const content = canonicalJson([kind, from.key, to.key, amount, metadata]);
  return { reference, kind, from, to, amount, expiresAt, metadataJson: metadata, contentHash: sha256(content), createdAt: now };
}

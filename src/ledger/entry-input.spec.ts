import { randomUUID } from 'node:crypto';
import { AppError } from '../common/errors';
import { canonicalJson, prepareEntry, prepareHold, resolveRef } from './entry-input';
import { chainHash, GENESIS_HASH } from './ledger-chain';
import { EntryInput, systemAccount, userAccount } from './ledger.types';
import { UUID_RE } from '../common/ids';
import { uuidv7 } from './uuid7';

const now = new Date('2030-01-01T00:00:00Z');
const user = randomUUID();
const mint = (amount: bigint, metadata?: Record<string, unknown>): EntryInput => ({
  kind: 'mint',
  reference: 'r-1',
  postings: [
    { account: systemAccount('issuance', 'CREDIT'), amount: -amount },
    { account: userAccount(user, 'CREDIT', 'wallet'), amount },
  ],
  metadata,
});

function refusal(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('ledger entry input', () => {
  it('gives the same content hash whatever the order of postings or metadata keys', () => {
    const a = prepareEntry(mint(5n, { b: 1, a: { d: 2, c: [1, 2] } }), now);
    const b = prepareEntry({ ...mint(5n, { a: { c: [1, 2], d: 2 }, b: 1 }), postings: [...mint(5n).postings].reverse() }, now);
    expect(a.contentHash).toBe(b.contentHash);
    expect(a.metadataJson).toBe('{"a":{"c":[1,2],"d":2},"b":1}');
    expect(prepareEntry(mint(6n), now).contentHash).not.toBe(prepareEntry(mint(5n), now).contentHash);
    expect(prepareEntry({ ...mint(5n), kind: 'gift' }, now).contentHash).not.toBe(prepareEntry(mint(5n), now).contentHash);
  });

  it('accepts numbers that are safe integers and bigints, nothing else', () => {
    expect(
      prepareEntry({ ...mint(5n), postings: mint(5n).postings.map((p) => ({ ...p, amount: Number(p.amount) as unknown as bigint })) }, now)
        .legs[1].amount,
    ).toBe(5n);
    for (const bad of [1.5, '5', NaN, Infinity, 2 ** 60, null]) {
      const entry = {
        ...mint(5n),
        postings: [{ account: systemAccount('issuance', 'CREDIT'), amount: bad as unknown as bigint }, mint(5n).postings[1]],
      };
      expect(refusal(() => prepareEntry(entry, now)).code).toBe('VALIDATION_FAILED');
    }
  });

  it('refuses unbalanced entries per asset, with the asset named', () => {
    const err = refusal(() =>
      prepareEntry(
        {
          ...mint(5n),
          postings: [
            { account: systemAccount('issuance', 'PROMO'), amount: -5n },
            { account: userAccount(user, 'CREDIT', 'wallet'), amount: 5n },
          ],
        },
        now,
      ),
    );
    expect(err.extra).toMatchObject({ reason: 'LEDGER_UNBALANCED' });
  });

  it('normalizes account references and refuses unknown ones', () => {
    expect(resolveRef(userAccount(user.toUpperCase(), 'CREDIT', 'wallet'), 'a').key).toBe(`${user}/CREDIT/wallet`);
    expect(resolveRef(systemAccount('issuance', 'CREDIT'), 'a')).toMatchObject({
      allowNegative: true,
      ownerId: '00000000-0000-0000-0000-000000000000',
    });
    expect(resolveRef(userAccount(user, 'CREDIT', 'debt'), 'a').allowNegative).toBe(true);
    for (const bad of [
      { userId: user, asset: 'CREDIT', name: 'issuance' },
      { system: 'wallet', asset: 'CREDIT' },
      { userId: '00000000-0000-0000-0000-000000000000', asset: 'CREDIT', name: 'wallet' },
      {},
      null,
    ]) {
      expect(refusal(() => resolveRef(bad, 'account')).extra.reason).toBe('LEDGER_UNKNOWN_ACCOUNT');
    }
  });

  it('hashes holds without their expiry, so a retried request with a fresh expiry is the same hold', () => {
    const hold = {
      reference: 'h',
      kind: 'k',
      from: userAccount(user, 'CREDIT', 'wallet'),
      to: systemAccount('escrow', 'CREDIT'),
      amount: 5n,
    };
    const a = prepareHold({ ...hold, expiresAt: new Date(now.getTime() + 1000) }, now);
    const b = prepareHold({ ...hold, expiresAt: new Date(now.getTime() + 5000) }, now);
    expect(a.contentHash).toBe(b.contentHash);
    expect(refusal(() => prepareHold({ ...hold, expiresAt: now }, now)).errors?.[0].field).toBe('expiresAt');
  });

  it('encodes canonical JSON deterministically and refuses what JSON cannot hold', () => {
    expect(canonicalJson({ z: 1n, a: [undefined, new Date(0)], m: undefined })).toBe('{"a":[null,"1970-01-01T00:00:00.000Z"],"z":"1"}');
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(() => canonicalJson(loop)).toThrow();
    expect(() => canonicalJson({ f: () => 1 })).toThrow();
  });

  it('makes time-ordered version 7 UUIDs', () => {
    const ids = Array.from({ length: 1000 }, () => uuidv7());
    expect(ids.every((id) => UUID_RE.test(id) && id[14] === '7' && '89ab'.includes(id[19]))).toBe(true);
    expect(new Set(ids).size).toBe(1000);
    expect(ids[0].slice(0, 8) <= ids[999].slice(0, 8)).toBe(true);
  });

  it('chains hashes so that changing any sealed field changes every later link', () => {
    const e = { id: 'e1', reference: 'r', kind: 'k', metadata: '{}', createdAt: '1.5', postings: ['1:-5', '2:5'] };
    const h1 = chainHash(GENESIS_HASH, e);
    expect(chainHash(GENESIS_HASH, { ...e, postings: ['1:-6', '2:6'] }).equals(h1)).toBe(false);
    expect(chainHash(h1, e).equals(chainHash(GENESIS_HASH, e))).toBe(false);
  });
});

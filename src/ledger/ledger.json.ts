import { LedgerLine, VerifyReport } from './ledger.types';

/** An amount as a JSON integer (amounts are bounded so this is exact; beyond 2^53 it falls back to a string). */
export function jsonAmount(v: bigint): number | string {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
}

export function balancesJson(balances: Record<string, Record<string, bigint>>): Record<string, Record<string, number | string>> {
  return Object.fromEntries(
    Object.entries(balances).map(([asset, accounts]) => [
      asset,
      Object.fromEntries(Object.entries(accounts).map(([k, v]) => [k, jsonAmount(v)])),
    ]),
  );
}

export function lineJson(l: LedgerLine) {
  return {
    id: l.id,
    entryId: l.entryId,
    account: l.account,
    asset: l.asset,
    amount: jsonAmount(l.amount),
    balanceAfter: jsonAmount(l.balanceAfter),
    kind: l.kind,
    createdAt: l.createdAt.toISOString(),
  };
}

export function verifyJson(r: VerifyReport) {
  return {
    ...r,
    assets: Object.fromEntries(
      Object.entries(r.assets).map(([asset, a]) => [
        asset,
        { sum: jsonAmount(a.sum), minted: jsonAmount(a.minted), burned: jsonAmount(a.burned), supply: jsonAmount(a.supply) },
      ]),
    ),
  };
}

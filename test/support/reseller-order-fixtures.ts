import { LedgerService } from '../../src/ledger/ledger.service';
import { PaymentsHistoryService } from '../../src/payments/history/payments-history.service';
import { TestApp } from './test-app';

/**
 * Per reseller: what its wholesale purchases credited into its stock, both as the ledger's mints into
 * `reseller_stock` and as the payments module's `wholesaleCredited`, and where it is now: still in
 * stock, in escrow for its unsettled orders, or delivered to buyers (confirmed, or resolved to the
 * buyer from escrow). Bond payouts are the `bond_paid` + `debt_added` of orders resolved to the buyer
 * after delivery: they come from the bond, not the stock.
 */
export async function stockAccounting(t: TestApp, resellerId: string) {
  const [row] = await t.sql<{ minted: string; stock: string; in_escrow: string; delivered: string; bond_payouts: string }>(
    `SELECT
       (SELECT coalesce(sum(p.amount), 0) FROM ledger_postings p JOIN ledger_entries e ON e.id = p.entry_id
          JOIN ledger_accounts a ON a.id = p.account_id
         WHERE a.owner_id = $1 AND a.name = 'reseller_stock' AND a.asset = 'CREDIT' AND e.kind = 'mint')::text AS minted,
       (SELECT coalesce(sum(p.amount), 0) FROM ledger_postings p JOIN ledger_accounts a ON a.id = p.account_id
         WHERE a.owner_id = $1 AND a.name = 'reseller_stock' AND a.asset = 'CREDIT')::text AS stock,
       (SELECT coalesce(sum(amount), 0) FROM reseller_orders WHERE reseller_id = $1 AND confirmed_at IS NULL
           AND status IN ('open_review', 'open', 'paid', 'confirm_review', 'disputed'))::text AS in_escrow,
       (SELECT coalesce(sum(amount), 0) FROM reseller_orders WHERE reseller_id = $1
           AND (confirmed_at IS NOT NULL OR status = 'resolved_buyer'))::text AS delivered,
       (SELECT coalesce(sum(bond_paid + debt_added), 0) FROM reseller_orders WHERE reseller_id = $1)::text AS bond_payouts`,
    [resellerId],
  );
  return {
    minted: BigInt(row.minted),
    wholesaleCredited: await t.app.get(PaymentsHistoryService).wholesaleCredited(resellerId),
    stock: BigInt(row.stock),
    inEscrow: BigInt(row.in_escrow),
    delivered: BigInt(row.delivered),
    bondPayouts: BigInt(row.bond_payouts),
  };
}

/** `wholesale bought = stock + in escrow + delivered` (as minted and as wholesaleCredited), and the ledger verifies. */
export async function expectStockAccountedFor(t: TestApp, resellerId: string): Promise<void> {
  const s = await stockAccounting(t, resellerId);
  expect(s.stock + s.inEscrow + s.delivered).toBe(s.wholesaleCredited);
  expect(s.minted).toBe(s.wholesaleCredited);
  const verify = await t.app.get(LedgerService).verify();
  expect(verify.problems).toEqual([]);
  expect(verify.ok).toBe(true);
}

import { randomUUID } from 'node:crypto';
import { Clock } from '../../src/common/clock.service';
import { addDays } from '../../src/common/time';
import { TransactionRunner } from '../../src/database/transaction-runner';
import { IdentityService } from '../../src/identity/identity.service';
import { LedgerService, systemAccount, userAccount } from '../../src/ledger/ledger.service';
import { Actor, as, fund, relogin, signUp } from './market-fixtures';
import { TestApp } from './test-app';

/**
 * TEMPORARY until the vetting flow (part A's `approvedReseller` in reseller-fixtures.ts) is merged:
 * a reseller made by inserting its approved application and `resellers` row directly, the role
 * granted through IdentityService, its stock minted into `reseller_stock` from issuance, and its bond
 * locked through POST /reseller/bond. Every suite makes its resellers through this one function, so
 * the merge swaps only its body for the real HTTP flow.
 */
export interface SeedResellerOptions {
  /** Credits minted into reseller_stock (default 500,000). */
  stock?: number;
  /** Lock the bond (default true): the wallet is funded with RESELLER_BOND_CREDITS first. */
  bond?: boolean;
  /** Still in probation (default false). */
  probation?: boolean;
  /** Re-vetting overdue (default false). */
  vettingOverdue?: boolean;
  displayName?: string;
}

export async function seedReseller(t: TestApp, opts: SeedResellerOptions = {}): Promise<Actor> {
  const a = await signUp(t, 'reseller');
  const now = t.app.get(Clock).now();
  const name = opts.displayName ?? `Reseller ${a.id.slice(0, 6)}`;
  await t.app.get(TransactionRunner).run(async (em) => {
    const applicationId = randomUUID();
    await em.query(
      `INSERT INTO reseller_applications (id, user_id, status, business_name, regions, payment_methods, expected_monthly_volume, contact,
         check_report, created_at, updated_at)
       VALUES ($1, $2, 'approved', $3, '{EU,US}', '{bank_transfer,paypal}', 1000000, 'contact@example.com', '{}', $4, $4)`,
      [applicationId, a.id, name, now],
    );
    await em.query(
      `INSERT INTO resellers (user_id, application_id, status, display_name, regions, payment_methods, approved_at, probation_ends_at,
         vetting_due_at, status_changed_at, created_at, updated_at)
       VALUES ($1, $2, 'active', $3, '{EU,US}', '{bank_transfer,paypal}', $4, $5, $6, $4, $4, $4)`,
      [
        a.id,
        applicationId,
        name,
        addDays(now, -60),
        opts.probation ? addDays(now, 30) : addDays(now, -30),
        opts.vettingOverdue ? addDays(now, -1) : addDays(now, 90),
      ],
    );
    await t.app.get(IdentityService).addRole(em, a.id, 'reseller');
    const stock = BigInt(opts.stock ?? 500_000);
    if (stock > 0n) {
      await t.app.get(LedgerService).post(em, {
        kind: 'mint',
        reference: `test_reseller_stock:${randomUUID()}`,
        postings: [
          { account: systemAccount('issuance', 'CREDIT'), amount: -stock },
          { account: userAccount(a.id, 'CREDIT', 'reseller_stock'), amount: stock },
        ],
      });
    }
  });
  if (opts.bond ?? true) {
    await fund(t, a.id, 'CREDIT', t.config.resellers.bondCredits);
    const res = await as(t, a).post('/reseller/bond');
    if (res.status !== 200) throw new Error(`bond: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return relogin(t, a);
}

/**
 * Per reseller: what was minted into its stock, and where it is now: still in stock, in escrow for its
 * unsettled orders, or delivered to buyers (confirmed, or resolved to the buyer from escrow). Bond
 * payouts are the `bond_paid` + `debt_added` of orders resolved to the buyer after delivery.
 */
export async function stockAccounting(t: TestApp, resellerId: string) {
  const [row] = await t.sql<{ credited: string; stock: string; in_escrow: string; delivered: string; bond_payouts: string }>(
    `SELECT
       (SELECT coalesce(sum(p.amount), 0) FROM ledger_postings p JOIN ledger_entries e ON e.id = p.entry_id
          JOIN ledger_accounts a ON a.id = p.account_id
         WHERE a.owner_id = $1 AND a.name = 'reseller_stock' AND a.asset = 'CREDIT' AND e.kind = 'mint')::text AS credited,
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
    credited: BigInt(row.credited),
    stock: BigInt(row.stock),
    inEscrow: BigInt(row.in_escrow),
    delivered: BigInt(row.delivered),
    bondPayouts: BigInt(row.bond_payouts),
  };
}

/** `credited into stock = stock + in escrow + delivered`, and the ledger verifies. */
export async function expectStockAccountedFor(t: TestApp, resellerId: string): Promise<void> {
  const s = await stockAccounting(t, resellerId);
  expect(s.stock + s.inEscrow + s.delivered).toBe(s.credited);
  const verify = await t.app.get(LedgerService).verify();
  expect(verify.problems).toEqual([]);
  expect(verify.ok).toBe(true);
}

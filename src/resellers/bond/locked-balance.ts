import { EntityManager } from 'typeorm';
import { LedgerService, UserAccountName } from '../../ledger/ledger.service';

/**
 * Locks one of the user's CREDIT accounts until the caller's transaction ends and answers what it
 * holds, as locked (0 when the account does not exist yet): a balance read that no concurrent move of
 * that account can change before the commit.
 */
export async function lockedBalance(ledger: LedgerService, em: EntityManager, userId: string, name: UserAccountName): Promise<bigint> {
  const probe = await ledger.debitInOrder(em, { userId, asset: 'CREDIT', from: [name], amount: 1n, allowShortfall: true });
  return [...probe.locked.values()].reduce((sum, funds) => sum + funds, 0n);
}

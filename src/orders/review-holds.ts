import { EntityManager } from 'typeorm';
import { AppError } from '../common/errors';
import { LedgerService } from '../ledger/ledger.service';

/**
 * Releases the ledger holds that reserved a reviewed action's funds. A hold the expiry job closed
 * already (FRAUD_REVIEW_HOLD_DAYS passed) has released its funds: there is nothing left to void.
 */
export async function releaseHolds(ledger: LedgerService, em: EntityManager, holdIds: readonly string[]): Promise<void> {
  for (const id of holdIds) {
    try {
      await ledger.void(em, id);
    } catch (err) {
      if (!(err instanceof AppError && err.code === 'INVALID_STATE' && err.extra.status === 'expired')) throw err;
    }
  }
}

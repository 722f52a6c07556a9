import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { LedgerService } from '../../ledger/ledger.service';
import { DebtRepository } from './debt.repository';

/**
 * What a user owes after a clawback could not recover everything: the negative balance of their
 * CREDIT `debt` account. Credits granted by later purchases repay it first.
 */
@Injectable()
export class DebtService {
  constructor(
    private readonly ledger: LedgerService,
    private readonly debts: DebtRepository,
  ) {}

  owed(userId: string): Promise<bigint> {
    return this.ledger.owed(userId);
  }

  /**
   * Serializes the payments module's debt movements for one user until `em`'s transaction ends, then
   * reads what is owed: two grants repaying the same debt at once would otherwise overpay it.
   */
  async lockAndReadOwed(em: EntityManager, userId: string): Promise<bigint> {
    await this.debts.lock(em, userId);
    return this.owed(userId);
  }
}

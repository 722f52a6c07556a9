import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Clock } from '../../common/clock.service';
import { FraudOutcomeKind, FraudOutcomesRepository, NewFraudOutcome } from './fraud-outcomes.repository';

/**
 * Outcomes the fraud rules learn from (the `user.chargebacks` feature, backtests): every dispute
 * is a chargeback, a lost one also a `dispute_lost`. Append-only; one row per reference.
 */
@Injectable()
export class FraudOutcomesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outcomes: FraudOutcomesRepository,
    private readonly clock: Clock,
  ) {}

  async record(em: EntityManager, o: NewFraudOutcome): Promise<void> {
    await this.outcomes.insert(em, o, this.clock.now());
  }

  countForUser(userId: string, kind: FraudOutcomeKind): Promise<number> {
    return this.outcomes.countForUser(this.dataSource, userId, kind);
  }
}

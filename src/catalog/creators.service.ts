import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Clock } from '../common/clock.service';
import { queryRows } from '../database/sql';
import { TransactionRunner } from '../database/transaction-runner';
import { IdentityService } from '../identity/identity.service';

export interface CreatorView {
  userId: string;
  roles: string[];
  creatorSince: string;
}

@Injectable()
export class CreatorsService {
  constructor(
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    private readonly identity: IdentityService,
  ) {}

  /** Makes the user a creator (idempotent: a second call answers the same). */
  async become(userId: string): Promise<CreatorView> {
    return this.tx.run(async (em) => {
      await this.ensureRecord(em, userId);
      const roles = await this.identity.addRole(em, userId, 'creator');
      const [row] = await queryRows<{ created_at: Date }>(em, 'SELECT created_at FROM creators WHERE user_id = $1', [userId]);
      return { userId, roles, creatorSince: row.created_at.toISOString() };
    });
  }

  /**
   * The creator record behind a listing. The `creator` role (checked by the route) may also have been
   * granted by an admin, so the record is created on first use.
   */
  async ensureRecord(em: EntityManager, userId: string): Promise<void> {
    await em.query('INSERT INTO creators (user_id, created_at) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING', [
      userId,
      this.clock.now(),
    ]);
  }
}

import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Clock } from '../common/clock.service';
import { TransactionRunner } from '../database/transaction-runner';
import { IdentityService } from '../identity/identity.service';
import { CreatorsRepository } from './creators.repository';

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
    private readonly creators: CreatorsRepository,
  ) {}

  /** Makes the user a creator (idempotent: a second call answers the same). */
  async become(userId: string): Promise<CreatorView> {
    return this.tx.run(async (em) => {
      await this.ensureRecord(em, userId);
      const roles = await this.identity.addRole(em, userId, 'creator');
      const since = (await this.creators.createdAt(em, userId))!;
      return { userId, roles, creatorSince: since.toISOString() };
    });
  }

  /**
   * The creator record behind a listing. The `creator` role (checked by the route) may also have been
   * granted by an admin, so the record is created on first use.
   */
  async ensureRecord(em: EntityManager, userId: string): Promise<void> {
    await this.creators.ensure(em, userId, this.clock.now());
  }
}

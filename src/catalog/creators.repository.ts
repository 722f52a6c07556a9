import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';

/** `creators`: the record behind a creator's listings. */
@Injectable()
export class CreatorsRepository {
  /** Creates the user's record unless it exists. */
  async ensure(em: EntityManager, userId: string, now: Date): Promise<void> {
    await queryRows(em, 'INSERT INTO creators (user_id, created_at) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING', [userId, now]);
  }

  async createdAt(em: EntityManager, userId: string): Promise<Date | undefined> {
    const [row] = await queryRows<{ created_at: Date }>(em, 'SELECT created_at FROM creators WHERE user_id = $1', [userId]);
    return row?.created_at;
  }
}

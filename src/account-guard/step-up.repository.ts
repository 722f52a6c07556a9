import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';

export type StepUpMethod = 'totp' | 'email';

export interface NewChallenge {
  id: string;
  userId: string;
  method: StepUpMethod;
  codeHash: Buffer | null;
  deviceTokenCiphertext: Buffer | null;
  ip: string;
  userAgent: string | null;
  createdAt: Date;
  expiresAt: Date;
}

export interface ChallengeRow {
  id: string;
  user_id: string;
  method: StepUpMethod;
  code_hash: Buffer | null;
  device_token_ciphertext: Buffer | null;
  attempts: number;
}

/** step_up_challenges: logins held back until a second factor is shown. */
@Injectable()
export class StepUpRepository {
  async insert(em: EntityManager, c: NewChallenge): Promise<void> {
    await queryRows(
      em,
      `INSERT INTO step_up_challenges (id, user_id, method, code_hash, device_token_ciphertext, ip, user_agent, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [c.id, c.userId, c.method, c.codeHash, c.deviceTokenCiphertext, c.ip, c.userAgent, c.createdAt, c.expiresAt],
    );
  }

  /** Spends one attempt of a live challenge that has attempts left; undefined when there is none. */
  async spendAttempt(db: EntityManager | DataSource, id: string, now: Date, maxAttempts: number): Promise<ChallengeRow | undefined> {
    const [challenge] = await queryRows<ChallengeRow>(
      db,
      `UPDATE step_up_challenges SET attempts = attempts + 1
       WHERE id = $1 AND completed_at IS NULL AND expires_at > $2 AND attempts < $3
       RETURNING id, user_id, method, code_hash, device_token_ciphertext, attempts`,
      [id, now, maxAttempts],
    );
    return challenge;
  }

  /** Completes the challenge once; false when it was completed already. */
  async complete(em: EntityManager, id: string, now: Date): Promise<boolean> {
    const rows = await queryRows(
      em,
      'UPDATE step_up_challenges SET completed_at = $2 WHERE id = $1 AND completed_at IS NULL RETURNING id',
      [id, now],
    );
    return rows.length > 0;
  }

  async deletePending(em: EntityManager, userId: string): Promise<void> {
    await queryRows(em, 'DELETE FROM step_up_challenges WHERE user_id = $1 AND completed_at IS NULL', [userId]);
  }
}

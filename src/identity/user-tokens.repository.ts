import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';

export type UserTokenPurpose = 'email_verification' | 'password_reset';

export interface NewUserToken {
  userId: string;
  purpose: UserTokenPurpose;
  tokenHash: Buffer;
  /** The address the token was sent to: a verification only counts for the address it was sent to. */
  email: string;
  now: Date;
  expiresAt: Date;
}

/** Single-use, expiring tokens sent by email (only their SHA-256 hashes are stored). */
@Injectable()
export class UserTokensRepository {
  async insert(em: EntityManager, t: NewUserToken): Promise<void> {
    await queryRows(
      em,
      `INSERT INTO user_tokens (user_id, purpose, token_hash, email, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
      [t.userId, t.purpose, t.tokenHash, t.email, t.now, t.expiresAt],
    );
  }

  /** Marks a live token used (at most once, whoever races); whose it was, or null. */
  async consume(
    em: EntityManager,
    tokenHash: Buffer,
    purpose: UserTokenPurpose,
    now: Date,
  ): Promise<{ userId: string; email: string } | null> {
    const rows = await queryRows<{ user_id: string; email: string }>(
      em,
      `UPDATE user_tokens SET used_at = $3
       WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3 RETURNING user_id, email`,
      [tokenHash, purpose, now],
    );
    return rows.length ? { userId: rows[0].user_id, email: rows[0].email } : null;
  }

  /** Marks the user's unused password-reset tokens used. */
  async retireResetTokens(em: EntityManager, userId: string, now: Date): Promise<void> {
    await queryRows(em, `UPDATE user_tokens SET used_at = $2 WHERE user_id = $1 AND purpose = 'password_reset' AND used_at IS NULL`, [
      userId,
      now,
    ]);
  }
}

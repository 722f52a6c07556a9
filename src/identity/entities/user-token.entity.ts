import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type UserTokenPurpose = 'email_verification' | 'password_reset';

/** A single-use, expiring token sent by email; only its SHA-256 hash is stored. */
@Entity('user_tokens')
export class UserTokenEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @Column({ type: 'text' })
  purpose: UserTokenPurpose;

  @Column({ name: 'token_hash', type: 'bytea' })
  tokenHash: Buffer;

  /** The address the token was sent to: a verification only counts for the address it was sent to. */
  @Column({ type: 'citext' })
  email: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'used_at', type: 'timestamptz', nullable: true })
  usedAt: Date | null;
}

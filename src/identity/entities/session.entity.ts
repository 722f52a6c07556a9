import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type SessionRevokeReason = 'logout' | 'revoked_by_user' | 'password_change' | 'password_reset' | 'refresh_token_reuse' | 'admin';

/** One signed-in client: the family of its rotating refresh tokens. */
@Entity('sessions')
export class SessionEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'last_used_at', type: 'timestamptz' })
  lastUsedAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'reauthenticated_at', type: 'timestamptz', nullable: true })
  reauthenticatedAt: Date | null;

  @Column({ type: 'inet', nullable: true })
  ip: string | null;

  @Column({ name: 'user_agent', type: 'text', nullable: true })
  userAgent: string | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  @Column({ name: 'revoked_reason', type: 'text', nullable: true })
  revokedReason: SessionRevokeReason | null;
}

import { Injectable, Logger } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Role } from '../common/auth.decorators';
import { Clock } from '../common/clock.service';
import { AppError, notFound } from '../common/errors';
import { TransactionRunner } from '../database/transaction-runner';
import { UserRecord } from './identity.hooks';
import { PasswordHasher } from './passwords/password-hasher.service';
import { assertAcceptablePassword } from './passwords/password-policy';
import { credentialStamp } from './tokens';
import { UsersService } from './users.service';

export interface EnsureAdminResult {
  userId: string;
  created: boolean;
  promoted: boolean;
}

/** Serializes every change that can remove an admin, so two admins cannot demote each other at once. */
const ADMIN_SET_LOCK = 'SELECT pg_advisory_xact_lock(hashtext($1))';

@Injectable()
export class AdminUsersService {
  private readonly logger = new Logger('Admin');

  constructor(
    private readonly users: UsersService,
    private readonly hasher: PasswordHasher,
    private readonly audit: AuditService,
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
  ) {}

  /** POST /admin/users/:id/roles. `buyer` is everyone's and cannot be removed; the last admin stays. */
  async changeRoles(actorId: string, userId: string, add: Role[], remove: Role[]): Promise<UserRecord> {
    const field = (f: string, message: string) => new AppError('VALIDATION_FAILED', message, {}, [{ field: f, message }]);
    if (add.length + remove.length === 0) throw field('add', 'give at least one role to add or remove');
    if (remove.includes('buyer')) throw field('remove', 'the buyer role cannot be removed');
    if (add.some((r) => remove.includes(r))) throw field('remove', 'a role cannot be both added and removed');

    return this.tx.run(async (em) => {
      if (remove.includes('admin')) await em.query(ADMIN_SET_LOCK, ['users.admin-role']);
      const user = await this.users.lock(em, userId);
      if (!user) throw notFound('User');
      const roles = [...new Set([...user.roles.filter((r) => !remove.includes(r)), ...add])];
      if (user.roles.includes('admin') && !roles.includes('admin')) {
        const others: unknown[] = await em.query(`SELECT 1 FROM users WHERE 'admin' = ANY (roles) AND id <> $1 LIMIT 1`, [userId]);
        if (!others.length) throw new AppError('INVALID_STATE', 'The last admin cannot lose the admin role');
      }
      await this.users.setRoles(em, userId, roles, this.clock.now());
      await this.recordRoleChanges(em, actorId, user, roles, undefined);
      return { ...user, roles };
    });
  }

  /**
   * Makes sure an admin account exists for `email`: creates it (email counted as verified), or grants
   * the admin role to the existing account only when `password` is that account's password (anyone
   * could have registered the address first), leaving it unchanged. Safe to run from several processes
   * at once. Used at boot (ADMIN_EMAIL / ADMIN_PASSWORD) and by the CLI.
   */
  async ensureAdmin(email: string, password: string, reason: string): Promise<EnsureAdminResult> {
    assertAcceptablePassword(password, 'password');
    // Null when the account was created, or its password changed, between the check and the write.
    for (let attempt = 1; attempt <= 3; attempt++) {
      const result = await this.tryEnsureAdmin(email, password, reason);
      if (result) return result;
    }
    throw new AppError('INVALID_STATE', 'The account kept changing while it was being checked; run again');
  }

  private async tryEnsureAdmin(email: string, password: string, reason: string): Promise<EnsureAdminResult | null> {
    const existing = await this.users.findWithPasswordHash(email);
    if (existing?.user.roles.includes('admin')) return { userId: existing.user.id, created: false, promoted: false };
    if (existing && !(await this.hasher.verify(existing.passwordHash, password))) {
      throw new AppError(
        'INVALID_CREDENTIALS',
        `An account with the email ${email} already exists and the password given is not its password; only that account's own password grants it the admin role`,
      );
    }
    const passwordHash = existing ? undefined : await this.hasher.hash(password);
    return this.tx.run(async (em) => {
      const now = this.clock.now();
      if (!existing) {
        const user = await this.users.insert(
          em,
          { email, displayName: 'Administrator', passwordHash: passwordHash!, roles: ['buyer', 'admin'], emailVerifiedAt: now },
          now,
        );
        if (!user) return null;
        await this.recordRoleChanges(em, null, { ...user, roles: ['buyer'] }, user.roles, reason);
        this.logger.log(`Created admin account ${email}`);
        return { userId: user.id, created: true, promoted: false };
      }
      const user = await this.users.lockWithCredential(em, existing.user.id, credentialStamp(existing.passwordHash), 'update');
      if (!user) return null;
      if (user.roles.includes('admin')) return { userId: user.id, created: false, promoted: false };
      const roles: Role[] = [...user.roles, 'admin'];
      await this.users.setRoles(em, user.id, roles, now);
      await this.recordRoleChanges(em, null, user, roles, reason);
      this.logger.log(`Granted the admin role to ${email}`);
      return { userId: user.id, created: false, promoted: true };
    });
  }

  private async recordRoleChanges(
    em: EntityManager,
    actorId: string | null,
    before: UserRecord,
    after: Role[],
    reason: string | undefined,
  ) {
    const changes = [
      ...after.filter((r) => !before.roles.includes(r)).map((role) => ({ action: 'user.role_granted', role })),
      ...before.roles.filter((r) => !after.includes(r)).map((role) => ({ action: 'user.role_revoked', role })),
    ];
    for (const c of changes) {
      await this.audit.record(em, { actorId, action: c.action, subjectType: 'user', subjectId: before.id, reason, data: { role: c.role } });
    }
  }
}

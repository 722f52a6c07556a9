import { Injectable, Logger } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Role } from '../common/auth.decorators';
import { Clock } from '../common/clock.service';
import { TransactionRunner } from '../database/transaction-runner';
import { IdentityErrors } from './identity.errors';
import { UserRecord } from './identity.hooks';
import { PasswordHasherService } from './passwords/password-hasher.service';
import { assertAcceptablePassword } from './passwords/password.policy';
import { credentialStamp } from './tokens';
import { UsersRepository } from './users.repository';

/** Roles that only their own module's flow grants and takes back. */
const FLOW_ONLY_ROLES: readonly Role[] = ['reseller'];

export interface EnsureAdminResult {
  userId: string;
  created: boolean;
  promoted: boolean;
}

@Injectable()
export class AdminUsersService {
  private readonly logger = new Logger('Admin');

  constructor(
    private readonly dataSource: DataSource,
    private readonly users: UsersRepository,
    private readonly hasher: PasswordHasherService,
    private readonly audit: AuditService,
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
  ) {}

  /** Whether any account has the admin role (the start-up banner's hint). */
  adminExists(): Promise<boolean> {
    return this.users.adminExists(this.dataSource);
  }

  /**
   * POST /admin/users/:id/roles. `buyer` is everyone's and cannot be removed; the last admin stays.
   * `reseller` is neither granted nor taken back here (403 ROLE_NOT_GRANTABLE): only the reseller
   * program's vetting and revocation do that (IdentityService.addRole / removeRole).
   */
  async changeRoles(actorId: string, userId: string, add: Role[], remove: Role[]): Promise<UserRecord> {
    const invalid = IdentityErrors.roleChangeInvalid;
    if (add.length + remove.length === 0) throw invalid('add', 'give at least one role to add or remove');
    const flowOnly = [...add, ...remove].find((r) => FLOW_ONLY_ROLES.includes(r));
    if (flowOnly) throw IdentityErrors.roleNotGrantable(flowOnly);
    if (remove.includes('buyer')) throw invalid('remove', 'the buyer role cannot be removed');
    if (add.some((r) => remove.includes(r))) throw invalid('remove', 'a role cannot be both added and removed');

    return this.tx.run(async (em) => {
      if (remove.includes('admin')) await this.users.lockAdminSet(em);
      const user = await this.users.lock(em, userId);
      if (!user) throw IdentityErrors.userNotFound();
      const roles = [...new Set([...user.roles.filter((r) => !remove.includes(r)), ...add])];
      if (user.roles.includes('admin') && !roles.includes('admin') && !(await this.users.anotherAdminExists(em, userId))) {
        throw IdentityErrors.lastAdmin();
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
    throw IdentityErrors.adminAccountKeptChanging();
  }

  private async tryEnsureAdmin(email: string, password: string, reason: string): Promise<EnsureAdminResult | null> {
    const existing = await this.users.findWithPasswordHash(this.dataSource, email);
    if (existing?.user.roles.includes('admin')) return { userId: existing.user.id, created: false, promoted: false };
    if (existing && !(await this.hasher.verify(existing.passwordHash, password))) throw IdentityErrors.adminPasswordMismatch(email);
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

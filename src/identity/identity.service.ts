import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Role } from '../common/auth.decorators';
import { Clock } from '../common/clock.service';
import { notFound } from '../common/errors';
import { queryRows } from '../database/sql';
import { IdentityHooks, UserRecord } from './identity.hooks';
import { UsersService, userView } from './users.service';

/** What other modules use to read users (entities stay private to identity). */
@Injectable()
export class IdentityService {
  constructor(
    private readonly users: UsersService,
    private readonly hooks: IdentityHooks,
    private readonly clock: Clock,
  ) {}

  findUser(id: string, em?: EntityManager): Promise<UserRecord | null> {
    return this.users.findById(id, em);
  }

  async getUser(id: string, em?: EntityManager): Promise<UserRecord> {
    const user = await this.users.findById(id, em);
    if (!user) throw notFound('User');
    return user;
  }

  async userExists(em: EntityManager | undefined, id: string): Promise<boolean> {
    return (await this.users.findById(id, em)) !== null;
  }

  async isEmailVerified(em: EntityManager | undefined, id: string): Promise<boolean> {
    return ((await this.users.findById(id, em))?.emailVerifiedAt ?? null) !== null;
  }

  /** GET /me: the profile, roles and the flags other modules add. */
  async profile(id: string) {
    const user = await this.getUser(id);
    return { ...userView(user), ...(await this.hooks.profileExtras(id)) };
  }

  /**
   * Grants a role a module hands out itself (`creator` on POST /creators/me, `reseller` on approval),
   * in the caller's transaction; idempotent. `admin` is granted only through the audited admin route.
   */
  async addRole(em: EntityManager, userId: string, role: Exclude<Role, 'admin' | 'buyer'>): Promise<Role[]> {
    return this.updateRoles(em, userId, 'CASE WHEN $2 = ANY (roles) THEN roles ELSE array_append(roles, $2) END', role);
  }

  /** Takes back a module-managed role (for example when a reseller is revoked); idempotent. */
  async removeRole(em: EntityManager, userId: string, role: Exclude<Role, 'admin' | 'buyer'>): Promise<Role[]> {
    return this.updateRoles(em, userId, 'array_remove(roles, $2)', role);
  }

  private async updateRoles(em: EntityManager, userId: string, expression: string, role: string): Promise<Role[]> {
    const rows = await queryRows<{ roles: Role[] }>(
      em,
      `UPDATE users SET roles = ${expression}, updated_at = $3 WHERE id = $1 RETURNING roles`,
      [userId, role, this.clock.now()],
    );
    if (!rows.length) throw notFound('User');
    return rows[0].roles;
  }
}

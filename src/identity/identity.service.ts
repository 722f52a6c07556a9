import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AuthUser, Role } from '../common/auth.decorators';
import { Clock } from '../common/clock.service';
import { userView } from './dto/user.view';
import { IdentityErrors } from './identity.errors';
import { IdentityHooks, UserRecord } from './identity.hooks';
import { UsersRepository } from './users.repository';

/** What other modules use to read users (the users table stays private to identity). */
@Injectable()
export class IdentityService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly users: UsersRepository,
    private readonly hooks: IdentityHooks,
    private readonly clock: Clock,
  ) {}

  findUser(id: string, em?: EntityManager): Promise<UserRecord | null> {
    return this.users.findById(em ?? this.dataSource, id);
  }

  /** Several users at once, in the caller's transaction (missing ids are absent from the map). */
  async findUsers(em: EntityManager, ids: string[]): Promise<Map<string, UserRecord>> {
    const users = await this.users.findByIds(em, [...new Set(ids)]);
    return new Map(users.map((u) => [u.id, u]));
  }

  async getUser(id: string, em?: EntityManager): Promise<UserRecord> {
    const user = await this.findUser(id, em);
    if (!user) throw IdentityErrors.userNotFound();
    return user;
  }

  /** Every admin's email address (alerts to the team: harm budget breaches). */
  adminEmails(em?: EntityManager): Promise<string[]> {
    return this.users.adminEmails(em ?? this.dataSource);
  }

  async userExists(em: EntityManager | undefined, id: string): Promise<boolean> {
    return (await this.findUser(id, em)) !== null;
  }

  async isEmailVerified(em: EntityManager | undefined, id: string): Promise<boolean> {
    return ((await this.findUser(id, em))?.emailVerifiedAt ?? null) !== null;
  }

  /** GET /me: the profile, roles and the flags other modules add, all as the access check read them. */
  profile(user: AuthUser) {
    return { ...userView(user), ...user.profile };
  }

  /**
   * Grants a role a module hands out itself (`creator` on POST /creators/me, `reseller` on approval),
   * in the caller's transaction; idempotent. `admin` is granted only through the audited admin route.
   */
  async addRole(em: EntityManager, userId: string, role: Exclude<Role, 'admin' | 'buyer'>): Promise<Role[]> {
    const roles = await this.users.addRole(em, userId, role, this.clock.now());
    if (!roles) throw IdentityErrors.userNotFound();
    return roles;
  }

  /** Takes back a module-managed role (for example when a reseller is revoked); idempotent. */
  async removeRole(em: EntityManager, userId: string, role: Exclude<Role, 'admin' | 'buyer'>): Promise<Role[]> {
    const roles = await this.users.removeRole(em, userId, role, this.clock.now());
    if (!roles) throw IdentityErrors.userNotFound();
    return roles;
  }
}

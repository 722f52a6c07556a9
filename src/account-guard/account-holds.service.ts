import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { businessEvent } from '../common/business-events';
import { Clock } from '../common/clock.service';
import { FieldError } from '../common/errors';
import { PgError, pgCode } from '../database/pg-errors';
import { IdentityService } from '../identity/identity.service';
import { AccountGuardErrors } from './account-guard.errors';
import { ADMIN_ACCOUNT_HOLD, SYSTEM_ACCOUNT_HOLD_REFERENCE } from './account-hold-references';
import { AccountHoldsRepository, ReleasedAccountHoldRow } from './account-holds.repository';
import { SecurityEventsService } from './security-events.service';

/** An account hold placed by another module for its own reason, named by a reference it derives (`dispute:<id>`). */
export interface SystemAccountHold {
  userId: string;
  reference: string;
  reason: string;
  /** The user who caused it, when one did; null for holds the system places on its own. */
  actorId?: string | null;
}

export interface AccountHoldView {
  reference: string;
  reason: string;
  placedBy: string | null;
  placedAt: string;
}

/**
 * An account may carry several account holds (the admins' hold and any number of system holds); it is
 * on hold while any is active. Every method works in the caller's transaction.
 */
@Injectable()
export class AccountHoldsService {
  constructor(
    private readonly clock: Clock,
    private readonly accountHolds: AccountHoldsRepository,
    private readonly events: SecurityEventsService,
    private readonly audit: AuditService,
    private readonly identity: IdentityService,
  ) {}

  async placeAdmin(em: EntityManager, actorId: string, userId: string, reason: string): Promise<void> {
    if (!(await this.identity.userExists(em, userId))) throw AccountGuardErrors.userNotFound();
    try {
      await this.accountHolds.insertAdmin(em, { userId, reason, placedBy: actorId, placedAt: this.clock.now() });
    } catch (err) {
      if (pgCode(err) === PgError.UNIQUE_VIOLATION) throw AccountGuardErrors.alreadyOnAdminHold();
      throw err;
    }
    await this.placed(em, actorId, userId, reason, null);
  }

  /**
   * Releases the account hold named by `reference` (`admin` for the admins' hold), or every active one
   * when none is given.
   */
  async releaseByAdmin(em: EntityManager, actorId: string, userId: string, reason: string, reference?: string): Promise<void> {
    const release = { userId, releasedBy: actorId, reason, releasedAt: this.clock.now() };
    const rows = await this.accountHolds.releaseMatching(em, release, reference ?? null);
    if (!rows.length) {
      if (!(await this.identity.userExists(em, userId))) throw AccountGuardErrors.userNotFound();
      throw AccountGuardErrors.noActiveAccountHold(reference);
    }
    await this.released(em, actorId, userId, reason, rows);
  }

  /** Answers false (and changes nothing) when an account hold with this reference was ever placed on the account. */
  async placeSystem(em: EntityManager, h: SystemAccountHold): Promise<boolean> {
    assertSystemAccountHold(h);
    const hold = { userId: h.userId, reference: h.reference, reason: h.reason, placedBy: h.actorId ?? null, placedAt: this.clock.now() };
    if (!(await this.accountHolds.insertReferenced(em, hold))) return false;
    await this.placed(em, h.actorId ?? null, h.userId, h.reason, h.reference);
    return true;
  }

  /** Releases only the account hold with this reference; false when it is not active (never placed, or released already). */
  async releaseSystem(em: EntityManager, h: SystemAccountHold): Promise<boolean> {
    assertSystemAccountHold(h);
    const release = { userId: h.userId, releasedBy: h.actorId ?? null, reason: h.reason, releasedAt: this.clock.now() };
    const rows = await this.accountHolds.releaseReferenced(em, release, h.reference);
    if (!rows.length) return false;
    await this.released(em, h.actorId ?? null, h.userId, h.reason, rows);
    return true;
  }

  async active(em: EntityManager, userId: string): Promise<AccountHoldView[]> {
    const rows = await this.accountHolds.active(em, userId);
    return rows.map((r) => ({
      reference: r.reference ?? ADMIN_ACCOUNT_HOLD,
      reason: r.reason,
      placedBy: r.placed_by,
      placedAt: r.placed_at.toISOString(),
    }));
  }

  private async placed(em: EntityManager, actorId: string | null, userId: string, reason: string, reference: string | null): Promise<void> {
    const data = { reference: reference ?? ADMIN_ACCOUNT_HOLD };
    await this.audit.record(em, { actorId, action: 'account.hold_placed', subjectType: 'user', subjectId: userId, reason, data });
    await this.events.record(em, userId, 'account_held', { data: { reason, ...data } });
    businessEvent(em, 'account.hold_placed', { userId, actorId, reference: data.reference });
  }

  private async released(
    em: EntityManager,
    actorId: string | null,
    userId: string,
    reason: string,
    rows: ReleasedAccountHoldRow[],
  ): Promise<void> {
    const references = rows.map((r) => r.reference ?? ADMIN_ACCOUNT_HOLD);
    for (const reference of references) {
      await this.audit.record(em, {
        actorId,
        action: 'account.hold_released',
        subjectType: 'user',
        subjectId: userId,
        reason,
        data: { reference },
      });
    }
    const still = await this.accountHolds.anyActive(em, userId);
    await this.events.record(em, userId, 'account_released', { data: { reason, references, stillOnHold: still } });
    businessEvent(em, 'account.hold_released', { userId, actorId, references: references.join(','), stillOnHold: still });
  }
}

function assertSystemAccountHold(h: SystemAccountHold): void {
  const problems = [
    SYSTEM_ACCOUNT_HOLD_REFERENCE.test(h.reference) ? null : { field: 'reference', message: 'must look like <kind>:<id>' },
    h.reason.length >= 1 && h.reason.length <= 1000 ? null : { field: 'reason', message: 'must be 1 to 1000 characters' },
  ].filter((p): p is FieldError => p !== null);
  if (problems.length) throw AccountGuardErrors.invalidSystemAccountHold(problems);
}

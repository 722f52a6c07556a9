import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock.service';
import { AppError, invalidState, notFound } from '../common/errors';
import { PgError, pgCode } from '../database/pg-errors';
import { queryRows } from '../database/sql';
import { IdentityService } from '../identity/identity.service';
import { ADMIN_HOLD, SYSTEM_HOLD_REFERENCE } from './hold-references';
import { SecurityEventsService } from './security-events.service';

/** A hold placed by another module for its own reason, named by a reference it derives (`dispute:<id>`). */
export interface SystemHold {
  userId: string;
  reference: string;
  reason: string;
  /** The user who caused it, when one did; null for holds the system places on its own. */
  actorId?: string | null;
}

export interface HoldView {
  reference: string;
  reason: string;
  placedBy: string | null;
  placedAt: string;
}

interface ReleasedRow {
  id: string;
  reference: string | null;
}

/**
 * An account may carry several holds (the admins' hold and any number of system holds); it is on hold
 * while any is active. Every method works in the caller's transaction.
 */
@Injectable()
export class AccountHolds {
  constructor(
    private readonly clock: Clock,
    private readonly events: SecurityEventsService,
    private readonly audit: AuditService,
    private readonly identity: IdentityService,
  ) {}

  async placeAdmin(em: EntityManager, actorId: string, userId: string, reason: string): Promise<void> {
    if (!(await this.identity.userExists(em, userId))) throw notFound('User');
    try {
      await em.query('INSERT INTO account_holds (user_id, reason, placed_by, placed_at) VALUES ($1, $2, $3, $4)', [
        userId,
        reason,
        actorId,
        this.clock.now(),
      ]);
    } catch (err) {
      if (pgCode(err) === PgError.UNIQUE_VIOLATION) throw invalidState('The account is already on hold by an admin');
      throw err;
    }
    await this.placed(em, actorId, userId, reason, null);
  }

  /**
   * Releases the hold named by `reference` (`admin` for the admins' hold), or every active hold when
   * none is given.
   */
  async releaseByAdmin(em: EntityManager, actorId: string, userId: string, reason: string, reference?: string): Promise<void> {
    const rows = await queryRows<ReleasedRow>(
      em,
      `UPDATE account_holds SET released_at = $3, released_by = $2, release_reason = $4
       WHERE user_id = $1 AND released_at IS NULL
         AND ($5::text IS NULL OR reference IS NOT DISTINCT FROM NULLIF($5, '${ADMIN_HOLD}'))
       RETURNING id, reference`,
      [userId, actorId, this.clock.now(), reason, reference ?? null],
    );
    if (!rows.length) {
      if (!(await this.identity.userExists(em, userId))) throw notFound('User');
      throw invalidState(reference ? `The account has no active hold ${reference}` : 'The account is not on hold');
    }
    await this.released(em, actorId, userId, reason, rows);
  }

  /** Answers false (and changes nothing) when a hold with this reference was ever placed on the account. */
  async placeSystem(em: EntityManager, h: SystemHold): Promise<boolean> {
    assertSystemHold(h);
    const rows = await queryRows(
      em,
      `INSERT INTO account_holds (user_id, reference, reason, placed_by, placed_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (user_id, reference) DO NOTHING RETURNING id`,
      [h.userId, h.reference, h.reason, h.actorId ?? null, this.clock.now()],
    );
    if (!rows.length) return false;
    await this.placed(em, h.actorId ?? null, h.userId, h.reason, h.reference);
    return true;
  }

  /** Releases only the hold with this reference; false when it is not active (never placed, or released already). */
  async releaseSystem(em: EntityManager, h: SystemHold): Promise<boolean> {
    assertSystemHold(h);
    const rows = await queryRows<ReleasedRow>(
      em,
      `UPDATE account_holds SET released_at = $3, released_by = $4, release_reason = $5
       WHERE user_id = $1 AND reference = $2 AND released_at IS NULL RETURNING id, reference`,
      [h.userId, h.reference, this.clock.now(), h.actorId ?? null, h.reason],
    );
    if (!rows.length) return false;
    await this.released(em, h.actorId ?? null, h.userId, h.reason, rows);
    return true;
  }

  async active(db: EntityManager, userId: string): Promise<HoldView[]> {
    const rows = await queryRows<{ reference: string | null; reason: string; placed_by: string | null; placed_at: Date }>(
      db,
      `SELECT reference, reason, placed_by, placed_at FROM account_holds WHERE user_id = $1 AND released_at IS NULL ORDER BY placed_at, id`,
      [userId],
    );
    return rows.map((r) => ({
      reference: r.reference ?? ADMIN_HOLD,
      reason: r.reason,
      placedBy: r.placed_by,
      placedAt: r.placed_at.toISOString(),
    }));
  }

  private async placed(em: EntityManager, actorId: string | null, userId: string, reason: string, reference: string | null): Promise<void> {
    const data = { reference: reference ?? ADMIN_HOLD };
    await this.audit.record(em, { actorId, action: 'account.hold_placed', subjectType: 'user', subjectId: userId, reason, data });
    await this.events.record(em, userId, 'account_held', { data: { reason, ...data } });
  }

  private async released(em: EntityManager, actorId: string | null, userId: string, reason: string, rows: ReleasedRow[]): Promise<void> {
    const references = rows.map((r) => r.reference ?? ADMIN_HOLD);
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
    const [{ still }] = await queryRows<{ still: boolean }>(
      em,
      'SELECT EXISTS (SELECT 1 FROM account_holds WHERE user_id = $1 AND released_at IS NULL) AS still',
      [userId],
    );
    await this.events.record(em, userId, 'account_released', { data: { reason, references, stillOnHold: still } });
  }
}

function assertSystemHold(h: SystemHold): void {
  const problems = [
    SYSTEM_HOLD_REFERENCE.test(h.reference) ? null : { field: 'reference', message: 'must look like <kind>:<id>' },
    h.reason.length >= 1 && h.reason.length <= 1000 ? null : { field: 'reason', message: 'must be 1 to 1000 characters' },
  ].filter((p) => p !== null);
  if (problems.length) throw new AppError('VALIDATION_FAILED', 'Invalid system hold', {}, problems);
}

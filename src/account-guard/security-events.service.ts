import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Clock } from '../common/clock.service';
import { AppError } from '../common/errors';
import { decodeCursor, Page, PageQuery, pageLimit, toPage } from '../common/pagination';
import { AppConfig } from '../config/app-config';
import { MailService } from '../notifications/mail.service';
import { securityNotice } from './security-notices';

export type SecurityEventKind =
  | 'new_device_login'
  | 'step_up_required'
  | 'account_locked'
  | 'password_changed'
  | 'password_reset'
  | 'email_changed'
  | 'totp_enabled'
  | 'totp_disabled'
  | 'refresh_token_reuse'
  | 'account_frozen'
  | 'unfreeze_requested'
  | 'account_held'
  | 'account_released';

export interface SecurityEventView {
  id: string;
  kind: SecurityEventKind;
  occurredAt: string;
  ip: string | null;
  data: Record<string, unknown>;
}

/** The append-only security history of each account, with email notices through the outbox. */
@Injectable()
export class SecurityEventsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly mail: MailService,
    private readonly config: AppConfig,
  ) {}

  /** Records in the caller's transaction; the notice (if the kind has one) commits with it. */
  async record(
    em: EntityManager,
    userId: string,
    kind: SecurityEventKind,
    opts: { ip?: string; data?: Record<string, unknown> } = {},
  ): Promise<void> {
    const rows: { email: string }[] = await em.query(
      `INSERT INTO security_events (user_id, occurred_at, kind, ip, data) VALUES ($1, $2, $3, $4, $5::jsonb)
       RETURNING (SELECT email FROM users WHERE id = $1) AS email`,
      [userId, this.clock.now(), kind, opts.ip ?? null, JSON.stringify(opts.data ?? {})],
    );
    const notice = securityNotice(kind, this.config.security, opts.data);
    if (notice && rows[0]?.email) {
      const where = opts.ip ? `\n\nFrom IP address ${opts.ip}.` : '';
      await this.mail.send(em, {
        to: rows[0].email,
        subject: notice.subject,
        text: notice.text + where,
        data: { kind: `security.${kind}`, ...opts.data },
      });
    }
  }

  async list(userId: string, q: PageQuery): Promise<Page<SecurityEventView>> {
    const limit = pageLimit(q);
    const after = decodeCursor(q.cursor, 1)?.[0];
    if (after !== undefined && !/^\d{1,18}$/.test(String(after))) {
      throw new AppError('VALIDATION_FAILED', 'cursor is not valid', {}, [{ field: 'cursor', message: 'is not valid' }]);
    }
    const rows: { id: string; kind: SecurityEventKind; occurred_at: Date; ip: string | null; data: Record<string, unknown> }[] =
      await this.dataSource.query(
        `SELECT id, kind, occurred_at, host(ip) AS ip, data FROM security_events
       WHERE user_id = $1 AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3`,
        [userId, after ?? null, limit + 1],
      );
    return toPage(
      rows,
      limit,
      (r) => ({ id: String(r.id), kind: r.kind, occurredAt: r.occurred_at.toISOString(), ip: r.ip, data: r.data }),
      (r) => [String(r.id)],
    );
  }
}
